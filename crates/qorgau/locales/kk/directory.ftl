# Анықтамалық: өңірлер, мекемелер, бөлімшелер, күзет бекеттері, ауысымдар, кестелер, қызметкерлер.

dir-title = Анықтамалық
dir-facilities = Медициналық ұйымдар
dir-regions = Өңірлер
dir-country-kz = Қазақстан
dir-country-kg = Қырғызстан
dir-all = Барлығы
dir-choose = Таңдаңыз…
dir-none = Жоқ
dir-first-page = Бірінші бет
dir-continue = Келесі
dir-save = Сақтау
dir-archive = Мұрағатқа жіберу
dir-restore = Мұрағаттан қайтару
dir-edit-named = Өзгерту: { $name }
dir-status-active = Жұмыс істейді
dir-status-archived = Мұрағатта
dir-done-created = Құрылды.
dir-done-saved = Өзгерістер сақталды.
dir-done-archived = Мұрағатқа жіберілді.
dir-done-restored = Мұрағаттан қайтарылды.

dir-field-country = Ел
dir-field-region = Өңір
dir-field-code = Коды
dir-field-tz = Уақыт белдеуі
dir-hint-tz = Asia/Almaty немесе Asia/Bishkek сияқты белдеу. Өңірдің белдеуін алу үшін бос қалдырыңыз.
dir-field-facility-kind = Ұйымның түрі
dir-field-name = Атауы
dir-field-address = Мекенжайы
dir-field-phone = Телефон нөмірі
dir-field-local-time = Қазіргі жергілікті уақыт
dir-field-status = Күйі
dir-field-show-archived = Мұрағаттағы жазбаларды да көрсету
dir-field-department-kind = Бөлімшенің түрі
dir-field-floor = Қабат
dir-field-location = Орны
dir-field-hours = Жұмыс уақыты
dir-hint-hours = 24/7 немесе аралық, мысалы 08:00-20:00.
dir-hours-always = Тәулік бойы
dir-field-starts = Басталуы
dir-field-ends = Аяқталуы
dir-field-search = Аты-жөні немесе табель нөмірі
dir-field-facility = Медициналық ұйым
dir-field-department = Бөлімше
dir-field-employee-no = Табель нөмірі
dir-field-full-name = Аты-жөні
dir-field-profession = Лауазымы
dir-field-email = Электрондық пошта
dir-field-person = Қызметкер
dir-field-csv = CSV мәтінін осында қойыңыз
dir-field-file = Немесе CSV файлын таңдаңыз
dir-hint-file = Файл таңдалса, қойылған мәтіннің орнына сол қолданылады. UTF-8 мәтін, бағандар үтірмен бөлінеді, тақырып бірінші жолда.
dir-field-line = Жол
dir-field-column = Баған
dir-field-problem = Қатесі

dir-facility-title = Медициналық ұйым
dir-facility-new = Жаңа медициналық ұйым
dir-facility-create = Құру
dir-facility-edit = Ұйым туралы мәліметтерді өзгерту
dir-staff-link = Қызметкерлер тізімі
dir-roster-link = Ауысым кестесі
dir-import-link = CSV-ден импорттау

dir-departments = Бөлімшелер
dir-department-new = Бөлімше қосу
dir-department-create = Бөлімше қосу
dir-posts = Күзет бекеттері
dir-post-new = Күзет бекетін қосу
dir-post-create = Күзет бекетін қосу
dir-shifts = Ауысымдар
dir-shift-new = Ауысымды анықтау
dir-shift-create = Ауысымды сақтау
dir-hint-shift-code = Латын әріптері, сандар және астын сызу белгісі, мысалы day немесе night. Мұндай код бар болса, оның уақыты өзгереді.
dir-shift-overnight = Түн ортасынан өтеді

dir-roster-title = Ауысым кестесі
dir-roster-week = { $from } – { $to } аптасы
dir-roster-weeks = Апталар
dir-prev-week = Алдыңғы апта
dir-this-week = Осы апта
dir-next-week = Келесі апта
dir-roster-empty = Бұл аптаға ауысымдар жоспарланбаған.
dir-weekday-1 = Дс
dir-weekday-2 = Сс
dir-weekday-3 = Ср
dir-weekday-4 = Бс
dir-weekday-5 = Жм
dir-weekday-6 = Сн
dir-weekday-7 = Жс

dir-import-title = CSV-ден импорттау
dir-import-staff = Қызметкерлер
dir-import-roster = Ауысым кестесі
dir-import-explain = Алдымен әр жол тексеріледі. Бір жолда қате болса, ештеңе импортталмайды, ал әр қате жол нөмірімен көрсетіледі.
dir-import-header = Бірінші жол мынадай болуы керек:
dir-import-sample = Мысал:
dir-import-staff-hint = Табель нөмірі бұрыннан бар қызметкердің мәліметтері жаңартылады. Лауазым төмендегі тізімдегі кодпен жазылады; бөлімше — осы ұйымның бір бөлімшесінің атауы немесе түрінің коды, не бос.
dir-import-roster-hint = Күндер ЖЖЖЖ-АА-КК түрінде — ауысым басталатын күн; ауысым — осы ұйымның бір ауысымының коды.
dir-import-submit = Тексеру және импорттау
dir-import-report = Қатесі бар жолдар
dir-import-failed = Ештеңе импортталған жоқ. Төмендегі жолдарды түзетіп, қайталап көріңіз.
dir-import-staff-done = { $n ->
    [one] Қызметкер туралы { $n } жазба импортталды.
   *[other] Қызметкерлер туралы { $n } жазба импортталды.
}
dir-import-roster-done = { $n ->
    [one] Кестенің { $n } жазбасы импортталды.
   *[other] Кестенің { $n } жазбасы импортталды.
}

dir-people-title = Қызметкерлер
dir-people-audit-note = Бұл тізімді және қызметкер карточкасын әр ашу аудит журналына жазылады, ал қызметкер өз деректерін кім қарағанын көре алады.
dir-person-title = Қызметкер
dir-person-new = Жаңа қызметкер
dir-person-create = Қызметкер қосу
dir-person-edit = Мәліметтерді өзгерту

dir-err-duplicate = Бұл осы ұйымның басқа жазбасында қолданылып тұр.
dir-err-not-utf8 = Файл UTF-8 кодтауындағы мәтін болуы керек.
err-csv-column = Бірінші жолда бұл баған жоқ.
err-csv-row = Бұл жолды CSV ретінде оқу мүмкін болмады.
err-csv-too-many = Файлда жолдар тым көп: 20 000-нан аспауы керек.
err-unknown-department = Ұйымда мұндай атауы немесе түрі бар бөлімше жоқ.
err-duplicate-in-file = Бұл табель нөмірі файлда жоғарырақ кездесті.
err-unknown-employee = Ұйымда мұндай табель нөмірі бар қызметкер жоқ.
err-unknown-shift = Ұйымда мұндай коды бар ауысым жоқ.

dept-emergency = Қабылдау бөлімі
dept-icu = Реанимация және қарқынды терапия бөлімшесі
dept-psychiatry = Психиатрия бөлімшесі
dept-paediatrics = Педиатрия бөлімшесі
dept-maternity = Босандыру бөлімшесі
dept-surgery = Хирургия бөлімшесі
dept-therapy = Терапия бөлімшесі
dept-outpatient = Емхана бөлімшесі
dept-ambulance_crew = Жедел жәрдем бригадалары
dept-reception = Тіркеу орны
dept-laboratory = Зертхана
dept-administration = Әкімшілік

dir-field-post-covers = Дабылдарға жауап береді
dir-hint-post-covers = Бұл бекет дабылдарына бірінші жауап беретін бөлімше; қалған дабылдар бүкіл мекемеге арналған бекетке түседі.
dir-post-covers-rest = Мекеменің қалған бөлігі
