# Тревоги: тревожная кнопка в телефоне, пульт охраны, история, одна тревога, настройки.

nav-alarm = Тревога
nav-console = Пульт охраны
card-alarm = Тревожная кнопка
card-alarm-text = Одна большая кнопка вызывает охрану туда, где вы находитесь. Работает и при плохой связи: тревога ждёт в телефоне, пока не будет доставлена.
card-console = Пульт охраны
card-console-text = Открытые тревоги по мере поступления, со звуком: подтвердить получение, направить охранников, отметить вызов 102, 103 или 112, закрыть.
card-alarms = История тревог
card-alarms-text = Прошлые тревоги с фильтрами и то, как быстро охрана подтвердила получение и прибыла.

alarm-app-name = Тревожная кнопка Qorgau
alarm-app-description = Вызывает охрану туда, где вы находитесь, даже при плохой связи.
alarm-title = Тревожная кнопка
alarm-button = Тревога
alarm-hold = { $s ->
    [one] Удерживайте кнопку { $s } секунду, чтобы подать сигнал тревоги.
    [few] Удерживайте кнопку { $s } секунды, чтобы подать сигнал тревоги.
    [many] Удерживайте кнопку { $s } секунд, чтобы подать сигнал тревоги.
   *[other] Удерживайте кнопку { $s } секунды, чтобы подать сигнал тревоги.
}
alarm-hold-none = Одно нажатие подаёт сигнал тревоги.
alarm-place = Где вы находитесь
alarm-no-place = У вашей учётной записи нет зарегистрированного места работы. Выберите организацию, в которой вы находитесь.
alarm-choose-facility = Выберите организацию…
alarm-field-facility = Медицинская организация
alarm-field-department = Отделение
alarm-field-floor = Этаж
alarm-field-room = Кабинет или место
alarm-field-gps = Передавать моё местоположение (GPS)
alarm-gps-hint = Только если вы разрешите это в браузере. Полезно вне обычного места работы.
alarm-gps-hint-ambulance = Включено для бригад скорой помощи: охрана видит, где находится бригада. Браузер спросит разрешение.
alarm-field-silent = Тихий режим
alarm-silent-hint = При нажатии телефон не издаёт звука и не вибрирует.
alarm-silent = Тихая
alarm-not-sent = Сигнал тревоги не отправлен. Исправьте отмеченное поле и нажмите снова или позвоните охране.
alarm-sent-at = Отправлено. Охрана получила вашу тревогу в { $time }.
alarm-js-saved = Тревога сохранена в телефоне. Отправляем…
alarm-js-waiting = Нет связи. Тревога сохранена в телефоне и будет отправлена, как только появится сеть. Пока не отправлено.
alarm-js-auth = Ваш сеанс закончился. Войдите снова, и ожидающая тревога будет отправлена.
alarm-js-refused = Сервер не принял тревогу ({ $reason }). Позвоните охране по телефону.
alarm-js-holding = Продолжайте удерживать…
alarm-js-confirm = Нажмите ещё раз, чтобы подать сигнал тревоги.
alarm-js-gps-failed = Не удалось определить местоположение; тревога отправляется без него.
alarm-state-now-acknowledged = Охрана получила вашу тревогу.
alarm-state-now-dispatched = Охранники идут на помощь.
alarm-state-now-on_scene = Охранники на месте.
alarm-state-now-resolved = Тревога закрыта.
alarm-call-security = Позвонить охране
alarm-safe-title = Я в безопасности
alarm-safe-hint = Отменяет вашу последнюю тревогу и сообщает охране, что вы в безопасности.
alarm-safe-button = Я в безопасности: отменить тревогу
alarm-field-pin = Ваш ПИН-код
alarm-safe-done = Ваша тревога отменена. Охрана знает, что вы в безопасности.
alarm-safe-nothing = У вас нет открытой тревоги, которую можно отменить.
alarm-err-pin-wrong = ПИН-код неверный. Тревога по-прежнему открыта.
alarm-settings-link = ПИН-коды для отмены тревоги

alarm-settings-title = ПИН-коды для отмены тревоги
alarm-pins-intro = С ПИН-кодом отмены отменить вашу тревогу можете только вы. ПИН-код принуждения — на случай, если вас заставляют отменить тревогу: страница покажет, что тревога отменена, но охрана сразу получит сигнал.
alarm-pin-stand-down = ПИН-код отмены
alarm-pin-stand-down-hint = Запрашивается, когда вы нажимаете «Я в безопасности». От 4 до 8 цифр.
alarm-pin-duress = ПИН-код принуждения
alarm-pin-duress-hint = Введите его вместо обычного ПИН-кода, если вас заставляют отменить тревогу. От 4 до 8 цифр, не совпадает с ПИН-кодом отмены.
alarm-pin-is-set = Задан.
alarm-pin-not-set = Не задан.
alarm-field-new-pin = Новый ПИН-код
alarm-pin-save = Сохранить
alarm-pin-remove = Удалить этот ПИН-код
alarm-pin-saved = Сохранено.
alarm-err-pin = Используйте от 4 до 8 цифр.
alarm-err-pin-same = ПИН-коды должны различаться.
alarm-back-to-button = К тревожной кнопке

alarm-hold-title = Время удержания кнопки
alarm-hold-intro = Сколько сотрудники организации должны удерживать тревожную кнопку, прежде чем сигнал будет отправлен. Удержание защищает от случайных тревог из кармана; одно нажатие — быстрее всего.
alarm-hold-now = Сейчас:
alarm-field-hold = Время удержания
alarm-hold-saved = Время удержания сохранено. Телефоны применят его при следующей загрузке страницы.

alarm-console-title = Пульт охраны
alarm-sound-enable = Включить звук
alarm-sound-mute = Без звука
alarm-sound-on = Звук включён.
alarm-sound-muted = Звук выключен.
alarm-refresh = Обновить
alarm-console-live = В реальном времени: новые тревоги появляются здесь сами.
alarm-console-offline = Связь потеряна. Переподключаемся…
alarm-console-new = Новая тревога
alarm-all-facilities = Все организации
alarm-none-open = Открытых тревог нет.
alarm-unacked = { $n ->
    [one] { $n } тревога ждёт подтверждения получения.
    [few] { $n } тревоги ждут подтверждения получения.
    [many] { $n } тревог ждут подтверждения получения.
   *[other] { $n } тревоги ждут подтверждения получения.
}
alarm-field-place = Место
alarm-field-who = Кто подал
alarm-field-when = Нажата
alarm-field-position = Местоположение
alarm-field-guards = Направлены охранники
alarm-guards-hint = Имена через запятую.
alarm-field-note = Заметка
alarm-field-outcome = Итог
alarm-act-acknowledge = Подтвердить получение
alarm-act-dispatch = Направить охранников
alarm-act-on-scene = Охранники на месте
alarm-act-called = Отметить вызов
alarm-act-note = Добавить заметку
alarm-act-resolve = Закрыть тревогу
alarm-act-done = Записано.
alarm-service-102 = 102 Полиция
alarm-service-102-kg = 102 Милиция
alarm-service-103 = 103 Скорая помощь
alarm-service-112 = 112
alarm-ago-s = { $n } с назад
alarm-ago-m = { $n } мин назад
alarm-ago-h = { $h } ч { $m } мин назад
alarm-secs = { $s } с
alarm-min-secs = { $m } мин { $s } с
alarm-escalation-level = Эскалация, уровень { $n }

alarm-source-phone = { $ref } (телефон)
alarm-source-mqtt = Кнопка { $ref }
alarm-source-panel = Охранная панель { $ref }
alarm-source-system = Qorgau ({ $ref })
alarm-kind-panic = Тревога
alarm-kind-duress = Тревога под принуждением
alarm-kind-panel_silent = Охранная панель молчит
alarm-state-raised = Не подтверждена
alarm-state-acknowledged = Получение подтверждено
alarm-state-dispatched = Охранники в пути
alarm-state-on_scene = Охранники на месте
alarm-state-resolved = Закрыта
alarm-state-open = Открытые (все, кроме закрытых)
alarm-outcome-false_alarm = Ложная тревога
alarm-outcome-de_escalated = Конфликт улажен
alarm-outcome-removed_by_security = Нарушитель удалён охраной
alarm-outcome-police_attended = Прибыла полиция
alarm-outcome-injury = Травма
alarm-outcome-stood_down = Отменена подавшим тревогу

alarm-history-title = История тревог
alarm-any = Любое
alarm-field-state = Состояние
alarm-field-kind = Вид
alarm-field-from = С
alarm-field-to = По
alarm-dates-hint = Даты — дни в часовом поясе { $zone }, включительно.
alarm-err-range = Дата окончания не может быть раньше даты начала.
alarm-stats-title = Время реагирования
alarm-stats-hint = От нажатия до подтверждения получения и до прибытия охранников, по всем тревогам, подходящим под фильтр. Медиана — среднее по порядку значение; на 90% тревог ответили не позже p90.
alarm-stats-capped = Учтены только 20 000 самых новых тревог этой выборки. Сузьте даты, чтобы получить точные значения.
alarm-stats-count = Тревог
alarm-stats-acked = Подтверждено
alarm-stats-ack-median = До подтверждения, медиана
alarm-stats-ack-p90 = До подтверждения, p90
alarm-stats-scene-median = До прибытия, медиана
alarm-stats-scene-p90 = До прибытия, p90
alarm-list-title = Тревоги
alarm-field-ack = До подтверждения
alarm-field-scene = До прибытия
alarm-first-page = Самые новые

alarm-one-title = Тревога
alarm-timeline = Ход событий
alarm-field-time = Время
alarm-field-actor = Кто
alarm-field-event = Что
alarm-field-detail = Подробности
alarm-event-raised = Подан сигнал тревоги
alarm-event-acknowledged = Получение подтверждено
alarm-event-dispatched = Направлены охранники
alarm-event-on_scene = Охранники на месте
alarm-event-called = Отмечен вызов
alarm-event-note = Заметка
alarm-event-escalated = Эскалация
alarm-event-resolved = Тревога закрыта

err-guards = Укажите имена направленных охранников (не больше 20, каждое до 100 знаков).
problem-alarm-closed = Эта тревога уже закрыта
problem-alarm-wrong-state = Эта тревога уже прошла этот шаг

alarm-field-post = Пост охраны
alarm-no-post = Без поста охраны
alarm-all-posts = Все посты
alarm-escalated-to = Эскалация, уровень { $n }: { $to }
alarm-report-draft = Сообщить об этом инциденте: черновик со временем, местом, ответившими и исходом готов
