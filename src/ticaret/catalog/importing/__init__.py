"""Reading import files (CSV, XLSX, JSON rows) into validated product records; no SQL here."""
