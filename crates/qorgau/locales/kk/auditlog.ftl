audit-title = Аудит журналы
field-seq = №
field-object = Жазба
field-since = Кезеңнің басы
field-until = Кезеңнің соңы
