audit-title = Журнал аудита
field-seq = №
field-object = Запись
field-since = Начало периода
field-until = Конец периода
