# Справочник: регионы, учреждения, отделения, посты охраны, смены, графики, сотрудники.

dir-title = Справочник
dir-facilities = Медицинские организации
dir-regions = Регионы
dir-country-kz = Казахстан
dir-country-kg = Кыргызстан
dir-all = Все
dir-choose = Выберите…
dir-none = Нет
dir-first-page = Первая страница
dir-continue = Далее
dir-save = Сохранить
dir-archive = Перенести в архив
dir-restore = Вернуть из архива
dir-edit-named = Изменить: { $name }
dir-status-active = Действует
dir-status-archived = В архиве
dir-done-created = Создано.
dir-done-saved = Изменения сохранены.
dir-done-archived = Перенесено в архив.
dir-done-restored = Возвращено из архива.

dir-field-country = Страна
dir-field-region = Регион
dir-field-code = Код
dir-field-tz = Часовой пояс
dir-hint-tz = Пояс вида Asia/Almaty или Asia/Bishkek. Оставьте пустым, чтобы взять пояс региона.
dir-field-facility-kind = Тип организации
dir-field-name = Название
dir-field-address = Адрес
dir-field-phone = Номер телефона
dir-field-local-time = Местное время сейчас
dir-field-status = Состояние
dir-field-show-archived = Показывать и записи в архиве
dir-field-department-kind = Тип отделения
dir-field-floor = Этаж
dir-field-location = Место
dir-field-hours = Часы работы
dir-hint-hours = 24/7 или промежуток, например 08:00-20:00.
dir-hours-always = Круглосуточно
dir-field-starts = Начало
dir-field-ends = Окончание
dir-field-search = ФИО или табельный номер
dir-field-facility = Медицинская организация
dir-field-department = Отделение
dir-field-employee-no = Табельный номер
dir-field-full-name = ФИО
dir-field-profession = Должность
dir-field-email = Электронная почта
dir-field-person = Сотрудник
dir-field-csv = Вставьте сюда текст CSV
dir-field-file = Или выберите файл CSV
dir-hint-file = Если выбран файл, используется он, а не вставленный текст. Текст в UTF-8, столбцы через запятую, заголовок в первой строке.
dir-field-line = Строка
dir-field-column = Столбец
dir-field-problem = Что не так

dir-facility-title = Медицинская организация
dir-facility-new = Новая медицинская организация
dir-facility-create = Создать
dir-facility-edit = Изменить сведения об организации
dir-staff-link = Список сотрудников
dir-roster-link = График смен
dir-import-link = Импорт из CSV

dir-departments = Отделения
dir-department-new = Добавить отделение
dir-department-create = Добавить отделение
dir-posts = Посты охраны
dir-post-new = Добавить пост охраны
dir-post-create = Добавить пост охраны
dir-shifts = Смены
dir-shift-new = Задать смену
dir-shift-create = Сохранить смену
dir-hint-shift-code = Латинские буквы, цифры и подчёркивание, например day или night. Если такой код уже есть, изменится его время.
dir-shift-overnight = Переходит через полночь

dir-roster-title = График смен
dir-roster-week = Неделя с { $from } по { $to }
dir-roster-weeks = Недели
dir-prev-week = Предыдущая неделя
dir-this-week = Текущая неделя
dir-next-week = Следующая неделя
dir-roster-empty = На эту неделю смены не запланированы.
dir-weekday-1 = Пн
dir-weekday-2 = Вт
dir-weekday-3 = Ср
dir-weekday-4 = Чт
dir-weekday-5 = Пт
dir-weekday-6 = Сб
dir-weekday-7 = Вс

dir-import-title = Импорт из CSV
dir-import-staff = Сотрудники
dir-import-roster = График смен
dir-import-explain = Сначала проверяется каждая строка. Если хотя бы в одной есть ошибка, ничего не импортируется, а каждая ошибка показывается с номером строки.
dir-import-header = Первая строка должна быть такой:
dir-import-sample = Пример:
dir-import-staff-hint = Сотрудник, чей табельный номер уже есть, обновляется. Должность указывается кодом из списка ниже; отделение — названием или кодом типа одного из отделений этой организации, либо пусто.
dir-import-roster-hint = Даты в виде ГГГГ-ММ-ДД — день начала смены; смена — код одной из смен этой организации.
dir-import-submit = Проверить и импортировать
dir-import-report = Строки с ошибками
dir-import-failed = Ничего не импортировано. Исправьте строки ниже и попробуйте снова.
dir-import-staff-done = { $n ->
    [one] Импортирована { $n } запись о сотруднике.
    [few] Импортировано { $n } записи о сотрудниках.
    [many] Импортировано { $n } записей о сотрудниках.
   *[other] Импортировано { $n } записи о сотрудниках.
}
dir-import-roster-done = { $n ->
    [one] Импортирована { $n } запись графика.
    [few] Импортировано { $n } записи графика.
    [many] Импортировано { $n } записей графика.
   *[other] Импортировано { $n } записи графика.
}

dir-people-title = Сотрудники
dir-people-audit-note = Каждый просмотр этого списка и карточки сотрудника записывается в журнал аудита, и сотрудник видит, кто смотрел его данные.
dir-person-title = Сотрудник
dir-person-new = Новый сотрудник
dir-person-create = Добавить сотрудника
dir-person-edit = Изменить сведения

dir-err-duplicate = Это уже используется в другой записи этой организации.
dir-err-not-utf8 = Файл должен быть текстом в кодировке UTF-8.
err-csv-column = В первой строке нет этого столбца.
err-csv-row = Эту строку не удалось прочитать как CSV.
err-csv-too-many = В файле слишком много строк: допускается не более 20 000.
err-unknown-department = В организации нет отделения с таким названием или типом.
err-duplicate-in-file = Этот табельный номер уже встречался выше в файле.
err-unknown-employee = В организации нет сотрудника с таким табельным номером.
err-unknown-shift = В организации нет смены с таким кодом.

dept-emergency = Приёмное отделение
dept-icu = Отделение реанимации и интенсивной терапии
dept-psychiatry = Психиатрическое отделение
dept-paediatrics = Педиатрическое отделение
dept-maternity = Родильное отделение
dept-surgery = Хирургическое отделение
dept-therapy = Терапевтическое отделение
dept-outpatient = Поликлиническое отделение
dept-ambulance_crew = Выездные бригады скорой помощи
dept-reception = Регистратура
dept-laboratory = Лаборатория
dept-administration = Администрация

dir-field-post-covers = Отвечает на тревоги из
dir-hint-post-covers = Отделение, на тревоги из которого этот пост отвечает первым; остальные тревоги идут посту для всего учреждения.
dir-post-covers-rest = Остальная часть учреждения
