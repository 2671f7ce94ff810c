app-name = Qorgau
skip-to-content = Негизги мазмунга өтүү
nav-label = Негизги меню
nav-home = Башкы бет
nav-directory = Маалымдама
nav-people = Кызматкерлер
nav-accounts = Каттоо эсептери
nav-audit = Аудит журналы
nav-my-account = Менин каттоо эсебим
logout = Чыгуу
footer-note = Qorgau медициналык кызматкерлерди жумуштагы зомбулуктан жана ыдык көрсөтүүдөн коргойт (ЭЭУнун № 190 Конвенциясы).
back-home = Башкы бетке кайтуу
error-status = Ката коду
retry-after = { $s } секунддан кийин кайра аракет кылып көрүңүз.
pagination = Барактар
next-page = Кийинки барак
nothing-found = Эч нерсе табылган жок.
filter = Чыпкалоо
export-csv = CSV форматында жүктөп алуу

prefs-language = Тил
prefs-font-size = Шрифттин өлчөмү
prefs-size-letter = А
prefs-size-normal = Кадимки шрифт өлчөмү
prefs-size-large = Чоң шрифт
prefs-size-largest = Эң чоң шрифт
prefs-colours = Түс схемасы
prefs-scheme-swatch = Аа
prefs-scheme-normal = Кадимки түстөр
prefs-scheme-bw = Ак фондо кара текст
prefs-scheme-wb = Кара фондо ак текст
prefs-images = Сүрөттөр
prefs-images-off = Сүрөттөрдү жашыруу
prefs-images-on = Сүрөттөрдү көрсөтүү

count-records = { $n ->
    [one] { $n } жазуу
   *[other] { $n } жазуу
}

problem-bad-request = Суроону окуу мүмкүн болгон жок
problem-unauthenticated = Системага кириңиз
problem-forbidden = Сизде бул аракетке уруксат жок
problem-not-found = Табылган жок
problem-method-not-allowed = Бул ыкма бул жерде колдонулбайт
problem-not-acceptable = Бул формат жеткиликсиз
problem-timeout = Суроо өтө узакка созулду
problem-conflict = Бул учурдагы абалга карама-каршы келет
problem-too-large = Суроо өтө чоң
problem-unsupported-media-type = Мазмундун бул түрү колдоого алынбайт
problem-validation = Айрым талааларды оңдоо керек
problem-too-many-requests = Аракеттер өтө көп
problem-unavailable = Кызмат убактылуу жеткиликсиз
problem-internal = Биз тарапта ката кетти; бир аздан кийин кайра аракет кылыңыз
problem-idempotency-mismatch = Бул Idempotency-Key башка суроо үчүн колдонулган
problem-idempotency-in-progress = Бул Idempotency-Key менен жөнөтүлгөн суроо дагы эле иштетилүүдө
problem-duplicate = Мындай маалыматтары бар жазуу мурунтан эле бар
problem-totp-required = Адегенде эки факторлуу аутентификацияны жөндөңүз
problem-cannot-disable-self = Өзүңүздүн каттоо эсебиңизди өчүрө албайсыз

err-required = Бул талааны толтуруу милдеттүү.
err-too-short = Өтө кыска.
err-too-long = Өтө узун.
err-invalid = Бул маани жараксыз.
err-choice = Сунушталган варианттардын бирин тандаңыз.
err-phone = Телефон номерин сандар менен киргизиңиз; боштук, +, - жана кашаа колдонсо болот.
err-email = Электрондук почтанын дарегин киргизиңиз, мисалы name@example.kz.
err-time = Убакытты саат:мүнөт түрүндө киргизиңиз, мисалы 08:00.
err-hours = 24/7 же 08:00-20:00 сыяктуу аралыкты киргизиңиз.
err-date = Датаны жыл-ай-күн түрүндө киргизиңиз, мисалы 2026-11-23.
err-datetime = Датаны (мисалы 2026-11-23) же датаны жана убакытты киргизиңиз.
err-date-range = Мезгил 62 күндөн ашпашы керек жана башталганга чейин бүтпөшү керек.
err-timezone = Мындай убакыт алкагы белгисиз.
err-limit-range = Барактын өлчөмү 1-ден 500-гө чейин болушу керек.
err-code = Латын тамгаларын, сандарды жана астынкы сызыкчаны (_) гана колдонуңуз.
err-out-of-scope = Бул сиз жооп берген аймакка кирбейт.

role-worker = Медициналык кызматкер
role-security_guard = Күзөтчү
role-department_head = Бөлүм башчысы
role-facility_admin = Мекеменин администратору
role-investigator = Кызматтык иликтөө жүргүзүүчү
role-union_rep = Кесиптик бирликтин өкүлү
role-regional_health = Аймактык саламаттыкты сактоо башкармалыгы
role-labour_inspector = Эмгек инспектору
role-ministry_analyst = Министрликтин аналитиги
role-prosecutor = Прокурор
role-system_admin = Системалык администратор

scope-own = Өз жазуулары
scope-department = Бөлүм
scope-facility = Мекеме
scope-region = Аймак
scope-country = Өлкө
err-duplicate = Бул маани тизмеде мурунтан эле бар.
err-range = Сан уруксат берилген чектен тышкары.
