app-name = Qorgau
skip-to-content = Перейти к основному содержанию
nav-label = Главное меню
nav-home = Главная
nav-directory = Справочник
nav-people = Сотрудники
nav-accounts = Учётные записи
nav-audit = Журнал аудита
nav-my-account = Моя учётная запись
logout = Выйти
footer-note = Qorgau защищает медицинских работников от насилия и домогательств на работе (Конвенция МОТ № 190).
back-home = Вернуться на главную страницу
error-status = Код ошибки
retry-after = Попробуйте ещё раз через { $s ->
    [one] { $s } секунду
    [few] { $s } секунды
    [many] { $s } секунд
   *[other] { $s } секунды
}.
pagination = Страницы
next-page = Следующая страница
nothing-found = Ничего не найдено.
filter = Применить фильтр
export-csv = Скачать в формате CSV

prefs-language = Язык
prefs-font-size = Размер шрифта
prefs-size-letter = А
prefs-size-normal = Обычный размер шрифта
prefs-size-large = Крупный шрифт
prefs-size-largest = Самый крупный шрифт
prefs-colours = Цветовая схема
prefs-scheme-swatch = Аа
prefs-scheme-normal = Обычные цвета
prefs-scheme-bw = Чёрный текст на белом
prefs-scheme-wb = Белый текст на чёрном
prefs-images = Изображения
prefs-images-off = Скрыть изображения
prefs-images-on = Показать изображения

count-records = { $n ->
    [one] { $n } запись
    [few] { $n } записи
    [many] { $n } записей
   *[other] { $n } записи
}

problem-bad-request = Не удалось прочитать запрос
problem-unauthenticated = Пожалуйста, войдите в систему
problem-forbidden = У Вас нет прав на это действие
problem-not-found = Не найдено
problem-method-not-allowed = Этот метод здесь недоступен
problem-not-acceptable = Этот формат недоступен
problem-timeout = Запрос выполнялся слишком долго
problem-conflict = Это противоречит текущему состоянию
problem-too-large = Запрос слишком большой
problem-unsupported-media-type = Неподдерживаемый тип содержимого
problem-validation = Некоторые поля нужно исправить
problem-too-many-requests = Слишком много попыток
problem-unavailable = Сервис временно недоступен
problem-internal = Ошибка на нашей стороне; пожалуйста, повторите попытку чуть позже
problem-idempotency-mismatch = Этот Idempotency-Key уже использовался для другого запроса
problem-idempotency-in-progress = Запрос с этим Idempotency-Key ещё обрабатывается
problem-duplicate = Запись с такими данными уже существует
problem-totp-required = Сначала настройте двухфакторную аутентификацию
problem-cannot-disable-self = Нельзя отключить собственную учётную запись

err-required = Это поле обязательно.
err-too-short = Слишком коротко.
err-too-long = Слишком длинно.
err-invalid = Недопустимое значение.
err-choice = Выберите один из предложенных вариантов.
err-phone = Введите номер телефона: цифры, пробелы, +, - и скобки.
err-email = Введите адрес электронной почты, например name@example.kz.
err-time = Введите время в формате ЧЧ:ММ, например 08:00.
err-hours = Введите 24/7 или интервал, например 08:00-20:00.
err-date = Введите дату в формате ГГГГ-ММ-ДД, например 2026-11-23.
err-datetime = Введите дату (ГГГГ-ММ-ДД) или дату и время.
err-date-range = Период — не больше 62 дней, и он не может заканчиваться раньше, чем начинается.
err-timezone = Неизвестный часовой пояс.
err-limit-range = Размер страницы должен быть от 1 до 500.
err-code = Используйте только латинские буквы, цифры и знак подчёркивания (_).
err-out-of-scope = Это вне зоны Вашей ответственности.

role-worker = Медицинский работник
role-security_guard = Охранник
role-department_head = Заведующий отделением
role-facility_admin = Администратор учреждения
role-investigator = Специалист по служебным расследованиям
role-union_rep = Представитель профсоюза
role-regional_health = Региональное управление здравоохранения
role-labour_inspector = Инспектор труда
role-ministry_analyst = Аналитик министерства
role-prosecutor = Прокурор
role-system_admin = Системный администратор

scope-own = Свои записи
scope-department = Отделение
scope-facility = Учреждение
scope-region = Регион
scope-country = Страна
err-duplicate = Это значение уже есть в списке.
err-range = Число вне допустимого диапазона.
