app-name = Qorgau
skip-to-content = Skip to main content
nav-label = Main menu
nav-home = Home
nav-directory = Directory
nav-people = Staff
nav-accounts = Accounts
nav-audit = Audit log
nav-my-account = My account
logout = Log out
footer-note = Qorgau protects health workers from violence and harassment at work (ILO Convention 190).
back-home = Back to the home page
error-status = Error code
retry-after = Please try again in { $s ->
    [one] { $s } second
   *[other] { $s } seconds
}.
pagination = Pages
next-page = Next page
nothing-found = Nothing found.
filter = Filter
export-csv = Download as CSV

prefs-language = Language
prefs-font-size = Font size
prefs-size-letter = A
prefs-size-normal = Normal font size
prefs-size-large = Large font size
prefs-size-largest = Largest font size
prefs-colours = Colour scheme
prefs-scheme-swatch = Aa
prefs-scheme-normal = Normal colours
prefs-scheme-bw = Black text on white
prefs-scheme-wb = White text on black
prefs-images = Images
prefs-images-off = Hide images
prefs-images-on = Show images

count-records = { $n ->
    [one] { $n } record
   *[other] { $n } records
}

problem-bad-request = The request could not be read
problem-unauthenticated = Please log in
problem-forbidden = You do not have permission to do this
problem-not-found = Not found
problem-method-not-allowed = This method is not allowed here
problem-not-acceptable = This format is not available
problem-timeout = The request took too long
problem-conflict = This conflicts with the current state
problem-too-large = The request is too large
problem-unsupported-media-type = Unsupported content type
problem-validation = Some fields need correcting
problem-too-many-requests = Too many attempts
problem-unavailable = The service is temporarily unavailable
problem-internal = Something went wrong on our side; please try again in a moment
problem-idempotency-mismatch = This Idempotency-Key was already used for a different request
problem-idempotency-in-progress = A request with this Idempotency-Key is still being processed
problem-duplicate = A record with these details already exists
problem-totp-required = Set up two-factor authentication first
problem-cannot-disable-self = You cannot disable your own account

err-required = This field is required.
err-too-short = This is too short.
err-too-long = This is too long.
err-invalid = This value is not valid.
err-choice = Choose one of the offered options.
err-phone = Enter a phone number using digits, spaces, +, - and brackets.
err-email = Enter an e-mail address such as name@example.kz.
err-time = Enter a time as HH:MM, for example 08:00.
err-hours = Enter 24/7 or a range such as 08:00-20:00.
err-date = Enter a date as YYYY-MM-DD.
err-datetime = Enter a date (YYYY-MM-DD) or a date and time.
err-date-range = The period may be at most 62 days, and must not end before it starts.
err-timezone = This is not a known time zone.
err-limit-range = The page size must be between 1 and 500.
err-code = Use only Latin letters, digits and underscores.
err-out-of-scope = This is outside the area you are responsible for.

role-worker = Health worker
role-security_guard = Security guard
role-department_head = Head of department
role-facility_admin = Facility administrator
role-investigator = Investigator
role-union_rep = Trade union representative
role-regional_health = Regional health department
role-labour_inspector = Labour inspector
role-ministry_analyst = Ministry analyst
role-prosecutor = Prosecutor
role-system_admin = System administrator

scope-own = Own records
scope-department = Department
scope-facility = Facility
scope-region = Region
scope-country = Country
err-duplicate = This value is already used in the list.
err-range = This number is outside the allowed range.
