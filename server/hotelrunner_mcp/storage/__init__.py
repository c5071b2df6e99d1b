"""The data folder: one per property (data_folder.py), the SQLite helpers every file in it uses
(WAL, busy timeouts, schema versions and migrations, process liveness for leases), and the one way async
code calls a store without blocking the event loop (offloop.py).

May import: `errors` only.
"""
