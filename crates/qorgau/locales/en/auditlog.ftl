audit-title = Audit log
field-seq = No.
field-object = Record
field-since = From
field-until = Until
