"""One importer per plan format: each has `detect(data) -> bool` and `read(documents) -> Plan`."""
