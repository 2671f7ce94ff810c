app-name = Qorgau
skip-to-content = Негізгі мазмұнға өту
nav-label = Басты мәзір
nav-home = Басты бет
nav-directory = Анықтамалық
nav-people = Қызметкерлер
nav-accounts = Тіркелгілер
nav-audit = Аудит журналы
nav-my-account = Менің тіркелгім
logout = Шығу
footer-note = Qorgau медицина қызметкерлерін жұмыстағы зорлық-зомбылық пен қудалаудан қорғайды (ХЕҰ-ның № 190 Конвенциясы).
back-home = Басты бетке оралу
error-status = Қате коды
retry-after = { $s } секундтан кейін қайталап көріңіз.
pagination = Беттер
next-page = Келесі бет
nothing-found = Ештеңе табылмады.
filter = Сүзу
export-csv = CSV пішімінде жүктеп алу

prefs-language = Тіл
prefs-font-size = Қаріп өлшемі
prefs-size-letter = А
prefs-size-normal = Қалыпты қаріп өлшемі
prefs-size-large = Үлкен қаріп
prefs-size-largest = Ең үлкен қаріп
prefs-colours = Түс схемасы
prefs-scheme-swatch = Аа
prefs-scheme-normal = Қалыпты түстер
prefs-scheme-bw = Ақ фонда қара мәтін
prefs-scheme-wb = Қара фонда ақ мәтін
prefs-images = Суреттер
prefs-images-off = Суреттерді жасыру
prefs-images-on = Суреттерді көрсету

count-records = { $n ->
    [one] { $n } жазба
   *[other] { $n } жазба
}

problem-bad-request = Сұрауды оқу мүмкін болмады
problem-unauthenticated = Жүйеге кіріңіз
problem-forbidden = Сізде бұл әрекетке рұқсат жоқ
problem-not-found = Табылмады
problem-method-not-allowed = Бұл әдіс мұнда қолданылмайды
problem-not-acceptable = Бұл пішім қолжетімсіз
problem-timeout = Сұрау тым ұзақ орындалды
problem-conflict = Бұл ағымдағы күйге қайшы келеді
problem-too-large = Сұрау тым үлкен
problem-unsupported-media-type = Мазмұн түріне қолдау көрсетілмейді
problem-validation = Кейбір өрістерді түзету керек
problem-too-many-requests = Әрекеттер тым көп
problem-unavailable = Қызмет уақытша қолжетімсіз
problem-internal = Біз жақта қате шықты; сәлден соң қайталап көріңіз
problem-idempotency-mismatch = Бұл Idempotency-Key басқа сұрау үшін қолданылған
problem-idempotency-in-progress = Осы Idempotency-Key бар сұрау әлі өңделуде
problem-duplicate = Осындай деректері бар жазба бұрыннан бар
problem-totp-required = Алдымен екі факторлы аутентификацияны баптаңыз
problem-cannot-disable-self = Өз тіркелгіңізді өшіре алмайсыз

err-required = Бұл өрісті толтыру міндетті.
err-too-short = Тым қысқа.
err-too-long = Тым ұзын.
err-invalid = Бұл мән жарамсыз.
err-choice = Ұсынылған нұсқалардың бірін таңдаңыз.
err-phone = Телефон нөмірін цифрлармен енгізіңіз; бос орын, +, - және жақша қолдануға болады.
err-email = Электрондық пошта мекенжайын енгізіңіз, мысалы name@example.kz.
err-time = Уақытты сағат:минут түрінде енгізіңіз, мысалы 08:00.
err-hours = 24/7 немесе 08:00-20:00 сияқты аралықты енгізіңіз.
err-date = Күнді жыл-ай-күн түрінде енгізіңіз, мысалы 2026-11-23.
err-datetime = Күнді (мысалы 2026-11-23) немесе күн мен уақытты енгізіңіз.
err-date-range = Кезең 62 күннен аспауы керек және басталған күнінен бұрын аяқталмауы керек.
err-timezone = Мұндай уақыт белдеуі белгісіз.
err-limit-range = Бет өлшемі 1-ден 500-ге дейін болуы керек.
err-code = Тек латын әріптерін, цифрларды және астыңғы сызықшаны (_) қолданыңыз.
err-out-of-scope = Бұл сіз жауап беретін аймаққа кірмейді.

role-worker = Медицина қызметкері
role-security_guard = Күзетші
role-department_head = Бөлімше меңгерушісі
role-facility_admin = Мекеме әкімшісі
role-investigator = Қызметтік тергеу жүргізуші
role-union_rep = Кәсіподақ өкілі
role-regional_health = Өңірлік денсаулық сақтау басқармасы
role-labour_inspector = Еңбек инспекторы
role-ministry_analyst = Министрлік талдаушысы
role-prosecutor = Прокурор
role-system_admin = Жүйе әкімшісі

scope-own = Өз жазбалары
scope-department = Бөлімше
scope-facility = Мекеме
scope-region = Өңір
scope-country = Ел
err-duplicate = Бұл мән тізімде бұрыннан бар.
err-range = Сан рұқсат етілген аралықтан тыс.
