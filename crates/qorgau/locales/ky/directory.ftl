# Маалымдама: аймактар, мекемелер, бөлүмдөр, күзөт посттору, нөөмөттөр, графиктер, кызматкерлер.

dir-title = Маалымдама
dir-facilities = Медициналык уюмдар
dir-regions = Аймактар
dir-country-kz = Казакстан
dir-country-kg = Кыргызстан
dir-all = Баары
dir-choose = Тандаңыз…
dir-none = Жок
dir-first-page = Биринчи бет
dir-continue = Кийинки
dir-save = Сактоо
dir-archive = Архивге жөнөтүү
dir-restore = Архивден кайтаруу
dir-edit-named = Өзгөртүү: { $name }
dir-status-active = Иштейт
dir-status-archived = Архивде
dir-done-created = Түзүлдү.
dir-done-saved = Өзгөртүүлөр сакталды.
dir-done-archived = Архивге жөнөтүлдү.
dir-done-restored = Архивден кайтарылды.

dir-field-country = Өлкө
dir-field-region = Аймак
dir-field-code = Коду
dir-field-tz = Убакыт алкагы
dir-hint-tz = Asia/Almaty же Asia/Bishkek сыяктуу алкак. Аймактын алкагын алуу үчүн бош калтырыңыз.
dir-field-facility-kind = Уюмдун түрү
dir-field-name = Аталышы
dir-field-address = Дареги
dir-field-phone = Телефон номери
dir-field-local-time = Азыркы жергиликтүү убакыт
dir-field-status = Абалы
dir-field-show-archived = Архивдеги жазууларды да көрсөтүү
dir-field-department-kind = Бөлүмдүн түрү
dir-field-floor = Кабат
dir-field-location = Жери
dir-field-hours = Иштөө убактысы
dir-hint-hours = 24/7 же аралык, мисалы 08:00-20:00.
dir-hours-always = Күнү-түнү
dir-field-starts = Башталышы
dir-field-ends = Аякташы
dir-field-search = Аты-жөнү же табель номери
dir-field-facility = Медициналык уюм
dir-field-department = Бөлүм
dir-field-employee-no = Табель номери
dir-field-full-name = Аты-жөнү
dir-field-profession = Кызматы
dir-field-email = Электрондук почта
dir-field-person = Кызматкер
dir-field-csv = CSV текстин ушул жерге коюңуз
dir-field-file = Же CSV файлын тандаңыз
dir-hint-file = Файл тандалса, коюлган тексттин ордуна ошол колдонулат. UTF-8 текст, мамычалар үтүр менен бөлүнөт, баш сап биринчи сапта.
dir-field-line = Сап
dir-field-column = Мамыча
dir-field-problem = Эмне туура эмес

dir-facility-title = Медициналык уюм
dir-facility-new = Жаңы медициналык уюм
dir-facility-create = Түзүү
dir-facility-edit = Уюм тууралуу маалыматты өзгөртүү
dir-staff-link = Кызматкерлердин тизмеси
dir-roster-link = Нөөмөт графиги
dir-import-link = CSVден импорттоо

dir-departments = Бөлүмдөр
dir-department-new = Бөлүм кошуу
dir-department-create = Бөлүм кошуу
dir-posts = Күзөт посттору
dir-post-new = Күзөт постун кошуу
dir-post-create = Күзөт постун кошуу
dir-shifts = Нөөмөттөр
dir-shift-new = Нөөмөттү аныктоо
dir-shift-create = Нөөмөттү сактоо
dir-hint-shift-code = Латын тамгалары, сандар жана астын сызуу белгиси, мисалы day же night. Мындай код мурунтан бар болсо, анын убактысы өзгөрөт.
dir-shift-overnight = Түн ортосунан өтөт

dir-roster-title = Нөөмөт графиги
dir-roster-week = { $from } – { $to } жумасы
dir-roster-weeks = Жумалар
dir-prev-week = Мурунку жума
dir-this-week = Ушул жума
dir-next-week = Кийинки жума
dir-roster-empty = Бул жумага нөөмөттөр пландалган эмес.
dir-weekday-1 = Дш
dir-weekday-2 = Шш
dir-weekday-3 = Шр
dir-weekday-4 = Бш
dir-weekday-5 = Жм
dir-weekday-6 = Иш
dir-weekday-7 = Жк

dir-import-title = CSVден импорттоо
dir-import-staff = Кызматкерлер
dir-import-roster = Нөөмөт графиги
dir-import-explain = Адегенде ар бир сап текшерилет. Жок дегенде бир сапта ката болсо, эч нерсе импорттолбойт, ал эми ар бир ката сап номери менен көрсөтүлөт.
dir-import-header = Биринчи сап мындай болушу керек:
dir-import-sample = Мисал:
dir-import-staff-hint = Табель номери мурунтан бар кызматкердин маалыматы жаңыланат. Кызматы төмөнкү тизмедеги код менен жазылат; бөлүм — ушул уюмдун бир бөлүмүнүн аталышы же түрүнүн коду, же бош.
dir-import-roster-hint = Даталар ЖЖЖЖ-АА-КК түрүндө — нөөмөт башталган күн; нөөмөт — ушул уюмдун бир нөөмөтүнүн коду.
dir-import-submit = Текшерүү жана импорттоо
dir-import-report = Катасы бар саптар
dir-import-failed = Эч нерсе импорттолгон жок. Төмөнкү саптарды оңдоп, кайра аракет кылыңыз.
dir-import-staff-done = { $n ->
    [one] Кызматкер тууралуу { $n } жазуу импорттолду.
   *[other] Кызматкерлер тууралуу { $n } жазуу импорттолду.
}
dir-import-roster-done = { $n ->
    [one] Графиктин { $n } жазуусу импорттолду.
   *[other] Графиктин { $n } жазуусу импорттолду.
}

dir-people-title = Кызматкерлер
dir-people-audit-note = Бул тизмени жана кызматкердин карточкасын ар бир ачуу аудит журналына жазылат, ал эми кызматкер өз маалыматын ким караганын көрө алат.
dir-person-title = Кызматкер
dir-person-new = Жаңы кызматкер
dir-person-create = Кызматкер кошуу
dir-person-edit = Маалыматты өзгөртүү

dir-err-duplicate = Бул ушул уюмдун башка жазуусунда колдонулуп жатат.
dir-err-not-utf8 = Файл UTF-8 коддоосундагы текст болушу керек.
err-csv-column = Биринчи сапта бул мамыча жок.
err-csv-row = Бул сапты CSV катары окуу мүмкүн болгон жок.
err-csv-too-many = Файлда саптар өтө көп: 20 000ден ашпашы керек.
err-unknown-department = Уюмда мындай аталыштагы же түрдөгү бөлүм жок.
err-duplicate-in-file = Бул табель номери файлда жогорураак кездешти.
err-unknown-employee = Уюмда мындай табель номери бар кызматкер жок.
err-unknown-shift = Уюмда мындай коддогу нөөмөт жок.

dept-emergency = Кабыл алуу бөлүмү
dept-icu = Реанимация жана интенсивдүү терапия бөлүмү
dept-psychiatry = Психиатрия бөлүмү
dept-paediatrics = Педиатрия бөлүмү
dept-maternity = Төрөт бөлүмү
dept-surgery = Хирургия бөлүмү
dept-therapy = Терапия бөлүмү
dept-outpatient = Амбулатордук бөлүм
dept-ambulance_crew = Тез жардам бригадалары
dept-reception = Каттоо бөлүмү (регистратура)
dept-laboratory = Лаборатория
dept-administration = Администрация

dir-field-post-covers = Коркунуч белгилерине жооп берет
dir-hint-post-covers = Бул пост анын коркунуч белгилерине биринчи жооп берген бөлүм; калган коркунуч белгилери мекеменин калган бөлүгүнүн постуна өтөт.
dir-post-covers-rest = Мекеменин калган бөлүгү
