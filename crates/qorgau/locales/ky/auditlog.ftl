audit-title = Аудит журналы
field-seq = №
field-object = Жазуу
field-since = Мезгилдин башы
field-until = Мезгилдин аягы
