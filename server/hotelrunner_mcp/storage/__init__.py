"""The data folder: one per property (data_folder.py), and the SQLite helpers every file in it uses
(WAL, busy timeouts, schema versions and migrations, process liveness for leases).

May import: `errors` only.
"""
