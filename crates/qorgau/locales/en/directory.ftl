# Directory: regions, facilities, departments, security posts, shifts, rosters, staff.

dir-title = Directory
dir-facilities = Facilities
dir-regions = Regions
dir-country-kz = Kazakhstan
dir-country-kg = Kyrgyzstan
dir-all = All
dir-choose = Choose…
dir-none = None
dir-first-page = First page
dir-continue = Continue
dir-save = Save
dir-archive = Move to archive
dir-restore = Restore from archive
dir-edit-named = Edit: { $name }
dir-status-active = In use
dir-status-archived = Archived
dir-done-created = Created.
dir-done-saved = Changes saved.
dir-done-archived = Moved to the archive.
dir-done-restored = Restored from the archive.

dir-field-country = Country
dir-field-region = Region
dir-field-code = Code
dir-field-tz = Time zone
dir-hint-tz = A zone such as Asia/Almaty or Asia/Bishkek. Leave empty to use the region's zone.
dir-field-facility-kind = Type of facility
dir-field-name = Name
dir-field-address = Address
dir-field-phone = Phone number
dir-field-local-time = Local time now
dir-field-status = Status
dir-field-show-archived = Also show archived records
dir-field-department-kind = Type of department
dir-field-floor = Floor
dir-field-location = Location
dir-field-hours = Working hours
dir-hint-hours = 24/7, or a range such as 08:00-20:00.
dir-hours-always = Around the clock
dir-field-starts = Starts
dir-field-ends = Ends
dir-field-search = Name or employee number
dir-field-facility = Facility
dir-field-department = Department
dir-field-employee-no = Employee number
dir-field-full-name = Full name
dir-field-profession = Profession
dir-field-email = E-mail
dir-field-person = Staff member
dir-field-csv = Paste the CSV text here
dir-field-file = Or choose a CSV file
dir-hint-file = If you choose a file, it is used instead of the pasted text. UTF-8 text, commas between columns, the header on the first line.
dir-field-line = Line
dir-field-column = Column
dir-field-problem = What is wrong

dir-facility-title = Facility
dir-facility-new = New facility
dir-facility-create = Create facility
dir-facility-edit = Edit the facility's details
dir-staff-link = Staff list
dir-roster-link = Roster
dir-import-link = Import from CSV

dir-departments = Departments
dir-department-new = Add a department
dir-department-create = Add department
dir-posts = Security posts
dir-post-new = Add a security post
dir-post-create = Add security post
dir-shifts = Shifts
dir-shift-new = Define a shift
dir-shift-create = Save shift
dir-hint-shift-code = Latin letters, digits and underscores, for example day or night. Saving a code that already exists changes its times.
dir-shift-overnight = Crosses midnight

dir-roster-title = Roster
dir-roster-week = Week from { $from } to { $to }
dir-roster-weeks = Weeks
dir-prev-week = Previous week
dir-this-week = This week
dir-next-week = Next week
dir-roster-empty = No shifts are planned for this week.
dir-weekday-1 = Mon
dir-weekday-2 = Tue
dir-weekday-3 = Wed
dir-weekday-4 = Thu
dir-weekday-5 = Fri
dir-weekday-6 = Sat
dir-weekday-7 = Sun

dir-import-title = Import from CSV
dir-import-staff = Staff
dir-import-roster = Roster
dir-import-explain = Every row is checked first. If any row has a mistake, nothing is imported, and each mistake is listed with its line number.
dir-import-header = The first line must be:
dir-import-sample = Example:
dir-import-staff-hint = A staff member whose employee number already exists is updated. Profession is a code from the list below; department is the name or type code of one of this facility's departments, or empty.
dir-import-roster-hint = Dates are YYYY-MM-DD, the day the shift starts; shift is the code of one of this facility's shifts.
dir-import-submit = Check and import
dir-import-report = Rows with mistakes
dir-import-failed = Nothing was imported. Correct the rows below and try again.
dir-import-staff-done = { $n ->
    [one] { $n } staff record imported.
   *[other] { $n } staff records imported.
}
dir-import-roster-done = { $n ->
    [one] { $n } roster entry imported.
   *[other] { $n } roster entries imported.
}

dir-people-title = Staff
dir-people-audit-note = Opening this list and each record is written to the audit log, and staff can see who looked at their data.
dir-person-title = Staff member
dir-person-new = New staff member
dir-person-create = Add staff member
dir-person-edit = Edit details

dir-err-duplicate = This is already used by another record of this facility.
dir-err-not-utf8 = The file must be UTF-8 text.
err-csv-column = This column is missing from the first line.
err-csv-row = This line could not be read as CSV.
err-csv-too-many = The file has too many rows: at most 20,000 are allowed.
err-unknown-department = This facility has no department with this name or type.
err-duplicate-in-file = This employee number appears earlier in the file.
err-unknown-employee = This facility has no staff member with this employee number.
err-unknown-shift = This facility has no shift with this code.

dept-emergency = Emergency department
dept-icu = Intensive care unit
dept-psychiatry = Psychiatric department
dept-paediatrics = Paediatric department
dept-maternity = Maternity department
dept-surgery = Surgical department
dept-therapy = Internal medicine department
dept-outpatient = Outpatient department
dept-ambulance_crew = Ambulance crews
dept-reception = Registry (reception desk)
dept-laboratory = Laboratory
dept-administration = Administration

dir-field-post-covers = Answers alarms from
dir-hint-post-covers = The department whose alarms this post answers first; other alarms go to a post for the rest of the facility.
dir-post-covers-rest = The rest of the facility
