"""English and Turkish texts of the pages; the language comes from `?lang=`, then the
`attn_lang` cookie, then the browser's Accept-Language."""

from __future__ import annotations

LANGUAGES = ("en", "tr")

TEXTS: dict[str, dict[str, str]] = {
    "app": {"en": "ATTN attendance", "tr": "ATTN yoklama"},
    "sign_in": {"en": "Sign in", "tr": "Giriş yap"},
    "sign_out": {"en": "Sign out", "tr": "Çıkış yap"},
    "school_number": {"en": "School number", "tr": "Okul numarası"},
    "password": {"en": "Password", "tr": "Şifre"},
    "remember": {"en": "Remember this device", "tr": "Bu cihazı hatırla"},
    "expired": {
        "en": "Your session has ended. Please sign in again.",
        "tr": "Oturumunuz sona erdi. Lütfen yeniden giriş yapın.",
    },
    "dashboard": {"en": "Dashboard", "tr": "Panel"},
    "history": {"en": "History", "tr": "Geçmiş"},
    "check_in": {"en": "Check in", "tr": "Yoklamaya katıl"},
    "start_lesson": {"en": "Start a lesson", "tr": "Ders başlat"},
    "lesson_name": {"en": "Lesson name", "tr": "Ders adı"},
    "teacher_name": {"en": "Teacher's name", "tr": "Öğretmen adı"},
    "duration": {"en": "Duration (minutes)", "tr": "Süre (dakika)"},
    "late_after": {
        "en": "Late after (minutes, optional)",
        "tr": "Geç sayılma (dakika, isteğe bağlı)",
    },
    "security": {"en": "Check-in security", "tr": "Yoklama güvenliği"},
    "opt_code": {"en": "Rotating code and QR", "tr": "Değişen kod ve QR"},
    "opt_network": {"en": "Classroom network only", "tr": "Yalnızca sınıf ağı"},
    "opt_device": {"en": "One device per student", "tr": "Öğrenci başına bir cihaz"},
    "opt_verification": {"en": "External verification", "tr": "Harici doğrulama"},
    "subnets": {
        "en": "Allowed subnets (optional, comma-separated)",
        "tr": "İzinli alt ağlar (isteğe bağlı, virgülle)",
    },
    "start": {"en": "Start", "tr": "Başlat"},
    "active_lessons": {"en": "Active lesson", "tr": "Aktif ders"},
    "no_active": {"en": "No active lesson.", "tr": "Aktif ders yok."},
    "open": {"en": "Open", "tr": "Aç"},
    "projector": {"en": "Projector view", "tr": "Projeksiyon görünümü"},
    "finish": {"en": "Finish the lesson", "tr": "Dersi bitir"},
    "roll": {"en": "Roll", "tr": "Yoklama listesi"},
    "student": {"en": "Student", "tr": "Öğrenci"},
    "status": {"en": "Status", "tr": "Durum"},
    "time": {"en": "Time", "tr": "Saat"},
    "reason": {"en": "Reason", "tr": "Gerekçe"},
    "actions": {"en": "Actions", "tr": "İşlemler"},
    "accept": {"en": "Accept", "tr": "Onayla"},
    "reject": {"en": "Reject", "tr": "Reddet"},
    "add_student": {
        "en": "Add a student who could not check in",
        "tr": "Katılamayan öğrenciyi ekle",
    },
    "add": {"en": "Add", "tr": "Ekle"},
    "audit": {"en": "Changes", "tr": "Değişiklikler"},
    "refresh": {"en": "Refresh", "tr": "Yenile"},
    "live_hint": {
        "en": "The roll updates itself as students check in.",
        "tr": "Liste öğrenciler katıldıkça kendiliğinden güncellenir.",
    },
    "code": {"en": "Code", "tr": "Kod"},
    "seconds_left": {"en": "seconds left", "tr": "saniye kaldı"},
    "scan": {"en": "Scan the QR code or type the code", "tr": "QR kodu okutun ya da kodu yazın"},
    "find": {"en": "Find", "tr": "Bul"},
    "join": {"en": "Check in", "tr": "Katıl"},
    "started": {"en": "Started", "tr": "Başladı"},
    "ends": {"en": "Ends", "tr": "Biter"},
    "result": {"en": "Result", "tr": "Sonuç"},
    "joined_present": {"en": "You are checked in: present.", "tr": "Yoklamaya katıldınız: var."},
    "joined_late": {"en": "You are checked in: late.", "tr": "Yoklamaya katıldınız: geç."},
    "joined_pending": {
        "en": "Checked in, waiting for verification.",
        "tr": "Katıldınız, doğrulama bekleniyor.",
    },
    "joined_other": {"en": "Your record:", "tr": "Kaydınız:"},
    "refused": {"en": "Check-in refused", "tr": "Katılım reddedildi"},
    "past_lessons": {"en": "Lessons", "tr": "Dersler"},
    "courses": {"en": "Courses", "tr": "Dersler (toplu)"},
    "attendance_rate": {"en": "Attendance", "tr": "Katılım"},
    "export_csv": {"en": "Export CSV", "tr": "CSV indir"},
    "export_xlsx": {"en": "Export XLSX", "tr": "XLSX indir"},
    "my_attendance": {"en": "My attendance", "tr": "Katılımlarım"},
    "nothing_yet": {"en": "Nothing yet.", "tr": "Henüz bir şey yok."},
    "language": {"en": "Türkçe", "tr": "English"},
    "st_present": {"en": "present", "tr": "var"},
    "st_late": {"en": "late", "tr": "geç"},
    "st_pending": {"en": "pending", "tr": "bekliyor"},
    "st_rejected": {"en": "rejected", "tr": "reddedildi"},
    "st_excused": {"en": "excused", "tr": "mazeretli"},
    "st_absent": {"en": "absent", "tr": "yok"},
    "active": {"en": "active", "tr": "aktif"},
    "finished": {"en": "finished", "tr": "bitti"},
    "not_on_roster": {"en": "not on roster", "tr": "listede yok"},
    "checking_in_as": {
        "en": "Checking in as {name} ({number})",
        "tr": "{name} ({number}) olarak katılıyorsunuz",
    },
    "checked_in_as": {
        "en": "Checked in as {name} ({number})",
        "tr": "{name} ({number}) olarak katıldınız",
    },
    "not_you": {"en": "not you?", "tr": "siz değil misiniz?"},
    "signed_out": {"en": "Signed out", "tr": "Oturum kapandı"},
    "sign_in_again": {"en": "sign in again", "tr": "yeniden giriş yapın"},
    "shared_device": {"en": "same device as another student", "tr": "başka öğrenciyle aynı cihaz"},
    "shared_address": {
        "en": "same address as another student",
        "tr": "başka öğrenciyle aynı adres",
    },
    "skip": {"en": "Skip to content", "tr": "İçeriğe geç"},
    "menu": {"en": "Main", "tr": "Ana menü"},
    # the projector view and its link
    "check_in_closed": {"en": "Check-in closed", "tr": "Yoklama kapandı"},
    "full_screen": {"en": "Full screen", "tr": "Tam ekran"},
    "exit_full_screen": {"en": "Exit full screen", "tr": "Tam ekrandan çık"},
    "full_screen_key": {
        "en": "Press F for full screen",
        "tr": "Tam ekran için F tuşuna basın",
    },
    "projector_link": {"en": "Projector link", "tr": "Projeksiyon bağlantısı"},
    "projector_link_hint": {
        "en": "Open it on the classroom PC: it shows this lesson's projector view without "
        "signing in there, until the lesson ends. Revoke it if it gets out.",
        "tr": "Sınıftaki bilgisayarda açın: orada giriş yapmadan bu dersin projeksiyon "
        "görünümünü ders bitene kadar gösterir. Başkasının eline geçerse iptal edin.",
    },
    "copy": {"en": "Copy", "tr": "Kopyala"},
    "copied": {"en": "Copied.", "tr": "Kopyalandı."},
    "revoke": {"en": "Revoke", "tr": "İptal et"},
    "projector_link_revoked": {
        "en": "The projector link was revoked; a screen that shows it now says so.",
        "tr": "Projeksiyon bağlantısı iptal edildi; onu gösteren ekran artık bunu söylüyor.",
    },
    "new_projector_link": {"en": "New projector link", "tr": "Yeni projeksiyon bağlantısı"},
    "err_projector_link_not_found": {
        "en": "This projector link is not valid.",
        "tr": "Bu projeksiyon bağlantısı geçerli değil.",
    },
    "err_projector_link_revoked": {
        "en": "This projector link was revoked.",
        "tr": "Bu projeksiyon bağlantısı iptal edildi.",
    },
    "err_projector_link_expired": {
        "en": "This projector link has expired: its lesson has ended.",
        "tr": "Bu projeksiyon bağlantısının süresi doldu: dersi sona erdi.",
    },
    # roll actions and rosters
    "course_roster": {"en": "Course roster", "tr": "Ders listesi"},
    "finish_question": {"en": "Finish {lesson} now?", "tr": "{lesson} şimdi bitirilsin mi?"},
    "finish_counts": {
        "en": "{attended} attended, {not_yet} not yet.",
        "tr": "{attended} katılan, {not_yet} henüz katılmadı.",
    },
    "finish_now": {"en": "Finish now", "tr": "Şimdi bitir"},
    "cancel": {"en": "Cancel", "tr": "Vazgeç"},
    "add_who": {"en": "Name or school number", "tr": "Ad ya da okul numarası"},
    "add_hint": {
        "en": "Type a name or a number; the suggestions come from the course roster.",
        "tr": "Bir ad ya da numara yazın; öneriler ders listesinden gelir.",
    },
    "added_notice": {
        "en": "Added {name} ({number}): {status}.",
        "tr": "{name} ({number}) eklendi: {status}.",
    },
    "src_student": {"en": "student", "tr": "öğrenci"},
    "src_teacher": {"en": "teacher", "tr": "öğretmen"},
    "src_verifier": {"en": "verifier", "tr": "doğrulayıcı"},
    "src_system": {"en": "system", "tr": "sistem"},
    "not_yet": {"en": "Not yet", "tr": "Henüz katılmayan"},
    "not_yet_none": {
        "en": "Everyone on the roster has checked in.",
        "tr": "Listedeki herkes katıldı.",
    },
    "accept_hint": {
        "en": "Confirm the check-in; a late one stays late",
        "tr": "Katılımı onayla; geç kalan geç sayılır",
    },
    "set_status": {"en": "Set the status", "tr": "Durumu seçin"},
    "apply": {"en": "Apply", "tr": "Uygula"},
    "rosters": {"en": "Rosters", "tr": "Ders listeleri"},
    "roster_of": {"en": "Roster of {course}", "tr": "{course} ders listesi"},
    "no_rosters": {"en": "No roster yet.", "tr": "Henüz ders listesi yok."},
    "roster_none": {
        "en": "This course has no roster yet.",
        "tr": "Bu dersin henüz listesi yok.",
    },
    "roster_intro": {
        "en": "A roster lists the students a course expects: the roll shows who has not "
        "checked in yet, and they are marked absent when the lesson ends. Lessons already "
        "started keep the roster they started with.",
        "tr": "Ders listesi, bir derse gelmesi beklenen öğrencileri sayar: yoklama henüz "
        "katılmayanları gösterir, ders bitince onlar yok sayılır. Başlamış dersler "
        "başladıkları listeyi korur.",
    },
    "roster_upload": {
        "en": "Upload or replace the roster",
        "tr": "Listeyi yükleyin ya da değiştirin",
    },
    "roster_new": {"en": "A new roster", "tr": "Yeni ders listesi"},
    "course_name": {"en": "Course (the lesson name)", "tr": "Ders (ders adı)"},
    "csv_file": {"en": "CSV file", "tr": "CSV dosyası"},
    "csv_paste": {"en": "…or paste the CSV", "tr": "…ya da CSV'yi yapıştırın"},
    "csv_hint": {
        "en": "The first line must be school_number,full_name; then one student a line.",
        "tr": "İlk satır school_number,full_name olmalı; ardından her satırda bir öğrenci.",
    },
    "preview": {"en": "Preview the changes", "tr": "Değişiklikleri önizle"},
    "preview_of": {"en": "What changes in {course}", "tr": "{course} listesinde neler değişecek"},
    "roster_added": {"en": "Added", "tr": "Eklenecek"},
    "roster_removed_list": {"en": "Removed", "tr": "Çıkarılacak"},
    "roster_renamed": {"en": "Renamed", "tr": "Adı değişecek"},
    "roster_unchanged": {
        "en": "{n} students stay as they are.",
        "tr": "{n} öğrenci olduğu gibi kalacak.",
    },
    "roster_problems": {
        "en": "{n} problems: fix them and preview again. Nothing was saved.",
        "tr": "{n} sorun var: düzeltip yeniden önizleyin. Hiçbir şey kaydedilmedi.",
    },
    "confirm_roster": {"en": "Save this roster", "tr": "Bu listeyi kaydet"},
    "line": {"en": "Line", "tr": "Satır"},
    "problem": {"en": "Problem", "tr": "Sorun"},
    "students_count": {"en": "{n} students", "tr": "{n} öğrenci"},
    "remove": {"en": "Remove", "tr": "Çıkar"},
    "remove_named": {"en": "Remove {name}", "tr": "{name} listeden çıkar"},
    "delete_roster": {"en": "Delete this roster", "tr": "Bu listeyi sil"},
    "delete_question": {
        "en": "Delete the roster of {course} ({n} students)?",
        "tr": "{course} ders listesi ({n} öğrenci) silinsin mi?",
    },
    "delete_now": {"en": "Delete", "tr": "Sil"},
    "roster_saved": {
        "en": "The roster is saved: {n} students.",
        "tr": "Liste kaydedildi: {n} öğrenci.",
    },
    "roster_student_removed": {
        "en": "{number} is off the roster.",
        "tr": "{number} listeden çıkarıldı.",
    },
    "roster_deleted": {"en": "The roster is deleted.", "tr": "Liste silindi."},
    "course_stats": {"en": "Course statistics", "tr": "Ders istatistikleri"},
    "updated": {"en": "Updated", "tr": "Güncellendi"},
    "full_name": {"en": "Full name", "tr": "Ad soyad"},
    "old_name": {"en": "Now", "tr": "Şimdi"},
    "new_name": {"en": "Becomes", "tr": "Olacak"},
    "nothing_changes": {"en": "Nothing changes.", "tr": "Hiçbir şey değişmiyor."},
    "rosterr_header": {
        "en": "the first line must be the header school_number,full_name",
        "tr": "ilk satır school_number,full_name başlığı olmalı",
    },
    "rosterr_columns": {
        "en": "expected 2 columns (school number, full name), found {value}",
        "tr": "2 sütun (okul numarası, ad soyad) bekleniyordu, {value} bulundu",
    },
    "rosterr_number": {
        "en": '"{value}" is not a school number',
        "tr": '"{value}" geçerli bir okul numarası değil (1-32 harf, rakam, ".", "_" ya da "-")',
    },
    "rosterr_name": {
        "en": "the full name is not valid",
        "tr": "ad soyad boş, 200 karakterden uzun ya da görünmeyen bir karakter içeriyor",
    },
    "rosterr_duplicate": {"en": "{value} appears twice", "tr": "{value} iki kez geçiyor"},
    "rosterr_not_student": {
        "en": "{value} is not a student's account",
        "tr": "{value} bir öğretmenin ya da yöneticinin hesabı; listede yalnızca öğrenciler olur",
    },
    "rosterr_too_many": {
        "en": "a roster holds at most 5000 students",
        "tr": "bir listede en fazla 5000 öğrenci olabilir",
    },
    "rosterr_not_csv": {"en": "the file is not valid CSV", "tr": "dosya geçerli bir CSV değil"},
    "rosterr_encoding": {
        "en": "the roster must be UTF-8 text",
        "tr": "liste UTF-8 metin olmalı",
    },
    "changes_more": {
        "en": "The latest {shown} of {total} changes.",
        "tr": "{total} değişikliğin son {shown} tanesi.",
    },
    "changes_all": {"en": "Show them all", "tr": "Hepsini göster"},
    "err_roster_changed": {
        "en": "The roster changed since this preview; look at the new preview and confirm again.",
        "tr": "Liste bu önizlemeden sonra değişti; yeni önizlemeye bakıp yeniden onaylayın.",
    },
    "err_ambiguous_student": {
        "en": "Several roster students have this name; pick one from the suggestions.",
        "tr": "Listede bu adla birden çok öğrenci var; önerilerden birini seçin.",
    },
    "err_roster_not_found": {
        "en": "This course has no roster.",
        "tr": "Bu dersin listesi yok.",
    },
    # the QR scan, remembered devices, results that arrive by themselves, lockouts
    "sign_in_to_join": {
        "en": "Sign in to check in to {lesson} — {teacher}",
        "tr": "{lesson} — {teacher} yoklamasına katılmak için giriş yapın",
    },
    "remember_hint": {
        "en": "Only on your own phone or computer: you stay signed in here for {days} days.",
        "tr": "Yalnızca kendi telefonunuzda ya da bilgisayarınızda: burada {days} gün oturumunuz "
        "açık kalır.",
    },
    "check_in_closed_text": {
        "en": "This lesson no longer takes check-ins.",
        "tr": "Bu derse artık yoklama kaydı yapılamıyor.",
    },
    "waiting_live": {
        "en": "This page shows the result by itself as soon as it arrives.",
        "tr": "Sonuç gelir gelmez bu sayfada kendiliğinden görünecek.",
    },
    "too_many_tries": {"en": "Too many attempts.", "tr": "Çok fazla deneme yapıldı."},
    "retry_second": {"en": "Try again in 1 second.", "tr": "1 saniye sonra yeniden deneyin."},
    "retry_seconds": {
        "en": "Try again in {n} seconds.",
        "tr": "{n} saniye sonra yeniden deneyin.",
    },
    "retry_minutes": {
        "en": "Try again in {n} minutes.",
        "tr": "{n} dakika sonra yeniden deneyin.",
    },
    # counts and rates
    "attended": {"en": "attended", "tr": "katılan"},
    "counts_label": {"en": "Counts by status", "tr": "Durumlara göre sayılar"},
    "not_expected": {"en": "not expected", "tr": "beklenmiyordu"},
    "lesson_attended": {"en": "Attended", "tr": "Katılan"},
    "lesson_rate": {"en": "Rate", "tr": "Oran"},
    "course_average": {"en": "Course average", "tr": "Ders ortalaması"},
    "rate_chart": {"en": "Attendance rate by lesson", "tr": "Derslere göre katılım oranı"},
    "rate_rule": {"en": "Rate", "tr": "Oran"},
    "lessons_expected": {"en": "lessons expected", "tr": "beklenen ders sayısı"},
    "not_counted": {"en": "lessons are not counted", "tr": "dersler sayılmaz"},
    "rate_expected": {
        "en": "A lesson is expected of a student who has a record in it: roster students who "
        "miss a lesson are marked absent, and lessons held before a student joined the "
        "roster do not count.",
        "tr": "Bir öğrenci, kaydı olan derslerden sorumludur: listedeki öğrenciler gelmedikleri "
        "derste yok sayılır; öğrenci listeye eklenmeden önceki dersler sayılmaz.",
    },
    "of_lessons": {"en": "of {n} lessons", "tr": "{n} dersten"},
    "of_one_lesson": {"en": "of 1 lesson", "tr": "1 dersten"},
    "weights": {"en": "What each status counts for", "tr": "Her durumun değeri"},
    "weights_help": {
        "en": "A share of one lesson, from 0 to 1 (for example 0.5 for late). "
        "\u201cNot counted\u201d leaves that status's lessons out of the rate.",
        "tr": "Bir dersin payı, 0 ile 1 arasında (örneğin geç için 0,5). "
        "\u201cSayılmaz\u201d, o durumdaki dersleri oranın dışında bırakır.",
    },
    "weight_excluded": {"en": "not counted", "tr": "sayılmaz"},
    "save_weights": {"en": "Save the weights", "tr": "Değerleri kaydet"},
    "weight_invalid": {
        "en": "Each weight is a number from 0 to 1 (present and absent always count).",
        "tr": "Her değer 0 ile 1 arasında bir sayıdır (var ve yok her zaman sayılır).",
    },
    "export_course": {"en": "Download the course table:", "tr": "Ders tablosunu indirin:"},
    # finding a lesson: the student's "Now" list and the looser search
    "room_optional": {
        "en": "Room or section (optional)",
        "tr": "Derslik ya da şube (isteğe bağlı)",
    },
    "room": {"en": "Room", "tr": "Derslik"},
    "now_label": {"en": "Now:", "tr": "Şimdi:"},
    "now_heading": {"en": "Your lessons now", "tr": "Şu anki dersleriniz"},
    "find_heading": {"en": "Find a lesson", "tr": "Ders bul"},
    "search_lesson": {
        "en": "Lesson name, or the start of its words",
        "tr": "Ders adı ya da kelimelerinin başı",
    },
    "search_teacher": {"en": "Teacher's name (optional)", "tr": "Öğretmen adı (isteğe bağlı)"},
    "search_hint": {
        "en": "Capitals and Turkish letters do not matter: "
        "“fiz” finds “Fizik 101”, “ayse” finds “Ayşe”.",
        "tr": "Büyük harf ve Türkçe karakter fark etmez: "
        "“fiz” yazınca “Fizik 101”, “ayse” yazınca “Ayşe” bulunur.",
    },
    "no_lessons_match": {
        "en": "No active lesson matches. Check the spelling, or type less of the name.",
        "tr": "Eşleşen aktif ders yok. Yazımı kontrol edin ya da adın daha azını yazın.",
    },
    "refine_search": {
        "en": "More lessons may match than are shown: "
        "type more of the name, or the teacher's name.",
        "tr": "Gösterilenden fazla ders eşleşebilir: "
        "adın daha fazlasını ya da öğretmenin adını yazın.",
    },
    "search_needs_word": {
        "en": "Type letters or digits of the lesson's name.",
        "tr": "Ders adının harflerini ya da rakamlarını yazın.",
    },
    # languages, time zones, the change list's sources and validation messages
    "times_in": {
        "en": "Times are in the {zone} time zone.",
        "tr": "Saatler {zone} saat dilimine göredir.",
    },
    # the fields a form's validation message names (`fld_<field>`), by their labels
    "fld_lesson_name": {"en": "Lesson name", "tr": "Ders adı"},
    "fld_teacher_name": {"en": "Teacher's name", "tr": "Öğretmen adı"},
    "fld_duration_minutes": {"en": "Duration", "tr": "Süre"},
    "fld_late_after_minutes": {"en": "Late after", "tr": "Geç sayılma süresi"},
    "fld_security": {"en": "Check-in security", "tr": "Yoklama güvenliği"},
    "fld_allowed_subnets": {"en": "Allowed subnets", "tr": "İzinli alt ağlar"},
    "fld_code": {"en": "Code", "tr": "Kod"},
    "fld_status": {"en": "Status", "tr": "Durum"},
    "fld_reason": {"en": "Reason", "tr": "Gerekçe"},
    "fld_school_number": {"en": "School number", "tr": "Okul numarası"},
    "fld_student_number": {"en": "School number", "tr": "Okul numarası"},
    "fld_password": {"en": "Password", "tr": "Şifre"},
    "fld_full_name": {"en": "Full name", "tr": "Ad soyad"},
    "fld_role": {"en": "Role", "tr": "Rol"},
    "fld_page": {"en": "Page", "tr": "Sayfa"},
    "fld_name": {"en": "Course", "tr": "Ders"},
    "fld_course": {"en": "Course", "tr": "Ders"},
    "fld_lesson_id": {"en": "Lesson", "tr": "Ders"},
    "fld_remember_device": {"en": "Remember this device", "tr": "Bu cihazı hatırla"},
    "fld_device_id": {"en": "Device", "tr": "Cihaz"},
    "fld_room": {"en": "Room or section", "tr": "Derslik ya da şube"},
    "fld_other": {"en": "A value", "tr": "Bir değer"},
    # what is wrong with a field (`val_<error type>`, or `val_<field>_<error type>` where one
    # field needs its own words): {field} is its label, the rest the rule's limits
    "val_missing": {"en": "{field}: fill this in.", "tr": "{field}: bu alanı doldurun."},
    "val_blank_text": {"en": "{field}: must not be empty.", "tr": "{field}: boş olamaz."},
    "val_string_too_short": {
        "en": "{field}: type at least {min_length} characters.",
        "tr": "{field}: en az {min_length} karakter yazın.",
    },
    "val_string_too_long": {
        "en": "{field}: at most {max_length} characters.",
        "tr": "{field}: en fazla {max_length} karakter olabilir.",
    },
    "val_too_long": {
        "en": "{field}: at most {max_length} entries.",
        "tr": "{field}: en fazla {max_length} öğe olabilir.",
    },
    "val_too_short": {
        "en": "{field}: at least {min_length} entries.",
        "tr": "{field}: en az {min_length} öğe olmalı.",
    },
    "val_string_pattern_mismatch": {
        "en": "{field}: “{value}” is not in the expected form.",
        "tr": "{field}: “{value}” beklenen biçimde değil.",
    },
    "val_school_number_string_pattern_mismatch": {
        "en": "{field}: “{value}” is not a school number (letters, digits, dots, hyphens and "
        "underscores, up to 32).",
        "tr": "{field}: “{value}” bir okul numarası değil (harf, rakam, nokta, kısa çizgi ve alt "
        "çizgi; en çok 32).",
    },
    "val_student_number_string_pattern_mismatch": {
        "en": "{field}: “{value}” is not a school number (letters, digits, dots, hyphens and "
        "underscores, up to 32).",
        "tr": "{field}: “{value}” bir okul numarası değil (harf, rakam, nokta, kısa çizgi ve alt "
        "çizgi; en çok 32).",
    },
    "val_int_type": {"en": "{field}: type a whole number.", "tr": "{field}: bir tam sayı yazın."},
    "val_int_parsing": {
        "en": "{field}: type a whole number.",
        "tr": "{field}: bir tam sayı yazın.",
    },
    "val_greater_than_equal": {
        "en": "{field}: must be at least {ge}.",
        "tr": "{field}: en az {ge} olmalı.",
    },
    "val_less_than_equal": {
        "en": "{field}: must be at most {le}.",
        "tr": "{field}: en fazla {le} olmalı.",
    },
    "val_greater_than": {
        "en": "{field}: must be more than {gt}.",
        "tr": "{field}: {gt} değerinden büyük olmalı.",
    },
    "val_less_than": {
        "en": "{field}: must be less than {lt}.",
        "tr": "{field}: {lt} değerinden küçük olmalı.",
    },
    "val_enum": {
        "en": "{field}: “{value}” is not one of the choices.",
        "tr": "{field}: “{value}” seçeneklerden biri değil.",
    },
    "val_status_enum": {
        "en": "{field}: choose present, late, rejected, excused or absent.",
        "tr": "{field}: var, geç, reddedildi, mazeretli ya da yok seçin.",
    },
    "val_control_characters": {
        "en": "{field}: holds a control or invisible character; type it again.",
        "tr": "{field}: denetim ya da görünmez bir karakter içeriyor; yeniden yazın.",
    },
    "val_not_a_network": {
        "en": "{field}: {value} is not a network such as 10.1.2.0/24.",
        "tr": "{field}: {value} bir ağ değil (örneğin 10.1.2.0/24).",
    },
    "val_repeated_option": {
        "en": "{field}: each option at most once.",
        "tr": "{field}: her seçenek en fazla bir kez seçilebilir.",
    },
    "val_extra_forbidden": {
        "en": "The form holds a field it does not expect.",
        "tr": "Formda beklenmeyen bir alan var.",
    },
    "val_bool_parsing": {
        "en": "{field}: must be yes or no.",
        "tr": "{field}: evet ya da hayır olmalı.",
    },
    "val_string_type": {"en": "{field}: must be text.", "tr": "{field}: metin olmalı."},
    "val_invalid": {
        "en": "{field}: this value is not valid.",
        "tr": "{field}: bu değer geçerli değil.",
    },
    "val_line": {"en": "Line {line}: {problem}", "tr": "Satır {line}: {problem}"},
    # single sign-on on the sign-in page
    "sign_in_with": {"en": "Sign in with {provider}", "tr": "{provider} ile giriş yap"},
    "sign_in_or": {"en": "or", "tr": "ya da"},
    "sign_in_with_password": {
        "en": "Sign in with a school number and password",
        "tr": "Okul numarası ve şifreyle giriş yap",
    },
    # single sign-on: a sign-in through the provider that did not sign the browser in
    "sso_failed": {
        "en": "Signing in through {provider} failed.",
        "tr": "{provider} üzerinden giriş yapılamadı.",
    },
    "sso_provider_said": {
        "en": "{provider} answered: {error}",
        "tr": "{provider} şu yanıtı verdi: {error}",
    },
    # the administration pages: accounts, one account, a one-time password, import, audit
    "adm_users": {"en": "Users", "tr": "Kullanıcılar"},
    "adm_import": {"en": "Import", "tr": "İçe aktar"},
    "adm_audit": {"en": "Audit", "tr": "Denetim kaydı"},
    "adm_search": {"en": "School number or name", "tr": "Okul numarası ya da ad"},
    "adm_search_hint": {
        "en": "The start of a school number, or the start of words of the name (ş, ı, ğ, ü, "
        "ö, ç may be typed as s, i, g, u, o, c).",
        "tr": "Okul numarasının başı ya da adın sözcüklerinin başı (ş, ı, ğ, ü, ö, ç yerine "
        "s, i, g, u, o, c yazılabilir).",
    },
    "adm_search_button": {"en": "Search", "tr": "Ara"},
    "adm_any_role": {"en": "Any role", "tr": "Tüm roller"},
    "adm_any_status": {"en": "Active or not", "tr": "Etkin ya da değil"},
    "adm_status": {"en": "Status", "tr": "Durum"},
    "adm_active": {"en": "Active", "tr": "Etkin"},
    "adm_inactive": {"en": "Deactivated", "tr": "Devre dışı"},
    "adm_found": {"en": "Found", "tr": "Bulunanlar"},
    "adm_all_users": {"en": "All users", "tr": "Tüm kullanıcılar"},
    "adm_none_found": {"en": "No user matches.", "tr": "Eşleşen kullanıcı yok."},
    "adm_pages": {"en": "More results", "tr": "Diğer sonuçlar"},
    "adm_previous": {"en": "Previous page", "tr": "Önceki sayfa"},
    "adm_next": {"en": "Next page", "tr": "Sonraki sayfa"},
    "adm_page_n": {"en": "Page {n}", "tr": "Sayfa {n}"},
    "adm_new_user": {"en": "New user", "tr": "Yeni kullanıcı"},
    "adm_back_to_users": {"en": "Back to the users", "tr": "Kullanıcılara dön"},
    "adm_sign_in_ways": {"en": "Signs in with", "tr": "Giriş yolu"},
    "adm_way_password": {"en": "password", "tr": "şifre"},
    "adm_way_sso": {"en": "single sign-on", "tr": "tek oturum açma"},
    "adm_way_none": {"en": "single sign-on only", "tr": "yalnızca tek oturum açma"},
    "role_teacher": {"en": "teacher", "tr": "öğretmen"},
    "role_student": {"en": "student", "tr": "öğrenci"},
    "role_admin": {"en": "administrator", "tr": "yönetici"},
    "adm_field_name": {"en": "Full name", "tr": "Ad soyad"},
    "adm_field_role": {"en": "Role", "tr": "Rol"},
    "adm_change_name": {"en": "name", "tr": "ad"},
    "adm_change_role": {"en": "role", "tr": "rol"},
    "adm_change_active": {"en": "active", "tr": "etkin"},
    "adm_change_password": {"en": "password", "tr": "şifre"},
    "adm_change_sso": {"en": "single sign-on", "tr": "tek oturum açma"},
    "adm_yes": {"en": "yes", "tr": "evet"},
    "adm_no": {"en": "no", "tr": "hayır"},
    "adm_none": {"en": "none", "tr": "yok"},
    "adm_password_set": {"en": "password set", "tr": "şifre belirlendi"},
    "adm_actor_cli": {"en": "the attn command", "tr": "attn komutu"},
    "adm_action_create": {"en": "created", "tr": "oluşturuldu"},
    "adm_action_update": {"en": "changed", "tr": "değiştirildi"},
    "adm_action_import": {"en": "imported", "tr": "içe aktarıldı"},
    "adm_first_password": {"en": "First password", "tr": "İlk şifre"},
    "adm_mode_generate": {
        "en": "Make a one-time password (shown once, on the next page)",
        "tr": "Tek kullanımlık şifre oluştur (bir kez, sonraki sayfada gösterilir)",
    },
    "adm_mode_set": {"en": "Use the password typed below", "tr": "Aşağıya yazılan şifreyi kullan"},
    "adm_mode_none": {
        "en": "No password: single sign-on only",
        "tr": "Şifre yok: yalnızca tek oturum açma",
    },
    "adm_typed_password": {"en": "New password", "tr": "Yeni şifre"},
    "adm_create": {"en": "Create the user", "tr": "Kullanıcıyı oluştur"},
    "adm_created_at": {"en": "Created", "tr": "Oluşturulma"},
    "adm_last_sign_in": {"en": "Last sign-in", "tr": "Son giriş"},
    "adm_never": {"en": "never", "tr": "hiç"},
    "adm_edit": {"en": "Name and role", "tr": "Ad ve rol"},
    "adm_role_hint": {
        "en": "A new role signs them out everywhere at once.",
        "tr": "Rol değişince kullanıcının her yerdeki oturumu hemen kapanır.",
    },
    "adm_save": {"en": "Save", "tr": "Kaydet"},
    "adm_password": {"en": "Reset the password", "tr": "Şifreyi sıfırla"},
    "adm_password_hint": {
        "en": "Either way the old password stops working and they are signed out everywhere "
        "at once.",
        "tr": "İki yolda da eski şifre artık çalışmaz ve kullanıcının her yerdeki oturumu hemen "
        "kapanır.",
    },
    "adm_make_otp": {"en": "Make a one-time password", "tr": "Tek kullanımlık şifre oluştur"},
    "adm_set_password": {"en": "Set this password", "tr": "Bu şifreyi belirle"},
    "adm_deactivate_h": {"en": "Deactivate", "tr": "Devre dışı bırak"},
    "adm_deactivate_hint": {
        "en": "Deactivating signs {name} out everywhere at once, and no sign-in works until "
        "the account is reactivated. Nothing is deleted.",
        "tr": "Devre dışı bırakmak {name} adlı kullanıcının her yerdeki oturumunu hemen kapatır; "
        "hesap yeniden etkinleştirilene kadar giriş yapılamaz. Hiçbir şey silinmez.",
    },
    "adm_deactivate_button": {
        "en": "Deactivate and sign out everywhere",
        "tr": "Devre dışı bırak ve her yerde oturumu kapat",
    },
    "adm_self_hint": {
        "en": "This is your own account: you would be signed out too.",
        "tr": "Bu sizin hesabınız: sizin oturumunuz da kapanır.",
    },
    "adm_reactivate_h": {"en": "Reactivate", "tr": "Yeniden etkinleştir"},
    "adm_reactivate_hint": {
        "en": "This account is deactivated: it cannot sign in.",
        "tr": "Bu hesap devre dışı: giriş yapamaz.",
    },
    "adm_reactivate_button": {"en": "Reactivate", "tr": "Yeniden etkinleştir"},
    "adm_done_created": {"en": "The user is created.", "tr": "Kullanıcı oluşturuldu."},
    "adm_done_saved": {"en": "Saved.", "tr": "Kaydedildi."},
    "adm_done_password_set": {
        "en": "The new password is set; they were signed out everywhere.",
        "tr": "Yeni şifre belirlendi; kullanıcının her yerdeki oturumu kapandı.",
    },
    "adm_done_deactivated": {
        "en": "Deactivated: they were signed out everywhere.",
        "tr": "Devre dışı bırakıldı: kullanıcının her yerdeki oturumu kapandı.",
    },
    "adm_done_reactivated": {
        "en": "Reactivated: they can sign in again.",
        "tr": "Yeniden etkinleştirildi: kullanıcı yeniden giriş yapabilir.",
    },
    "adm_recent_changes": {"en": "Recent changes", "tr": "Son değişiklikler"},
    "adm_all_changes": {
        "en": "Every change of this account",
        "tr": "Bu hesabın tüm değişiklikleri",
    },
    "adm_no_changes": {"en": "No changes recorded.", "tr": "Kayıtlı değişiklik yok."},
    "adm_nothing_changed": {"en": "nothing changed", "tr": "değişiklik yok"},
    "adm_otp_title": {"en": "One-time password", "tr": "Tek kullanımlık şifre"},
    "adm_otp_created": {
        "en": "{name} ({number}) is created.",
        "tr": "{name} ({number}) oluşturuldu.",
    },
    "adm_otp_reset": {
        "en": "The password of {name} ({number}) is reset; they were signed out everywhere.",
        "tr": "{name} ({number}) kullanıcısının şifresi sıfırlandı; her yerdeki oturumu kapandı.",
    },
    "adm_otp_label": {"en": "Their new password", "tr": "Yeni şifresi"},
    "adm_otp_once": {
        "en": "It is shown only this once and kept nowhere in plain text: give it to them now, "
        "or write it down. Reloading this page does not show it again.",
        "tr": "Yalnızca bu kez gösterilir ve hiçbir yerde açık metin olarak saklanmaz: şimdi "
        "kullanıcıya verin ya da bir yere yazın. Bu sayfayı yenilemek onu yeniden göstermez.",
    },
    "adm_otp_done": {"en": "Done", "tr": "Tamam"},
    "adm_import_intro": {
        "en": "Many accounts at once from a CSV file. You see what it would do first; then "
        "every row is imported, or none of them.",
        "tr": "Bir CSV dosyasından birçok hesap birden. Önce ne yapacağını görürsünüz; sonra ya "
        "bütün satırlar içe aktarılır ya da hiçbiri.",
    },
    "adm_import_first_line": {"en": "The first line:", "tr": "İlk satır:"},
    "adm_import_roles": {"en": "Roles:", "tr": "Roller:"},
    "adm_or": {"en": "or", "tr": "ya da"},
    "adm_import_empty_password": {
        "en": "An empty password means single sign-on only.",
        "tr": "Boş şifre yalnızca tek oturum açma demektir.",
    },
    "adm_import_preview": {"en": "Import preview", "tr": "İçe aktarma önizlemesi"},
    "adm_import_problems": {
        "en": "{n} problems: fix them and preview again. Nothing was imported.",
        "tr": "{n} sorun var: düzeltip yeniden önizleyin. Hiçbir şey içe aktarılmadı.",
    },
    "adm_import_again": {"en": "The file again", "tr": "Dosya yeniden"},
    "adm_import_created": {"en": "New accounts: {n}", "tr": "Yeni hesaplar: {n}"},
    "adm_import_claimed": {"en": "Students claimed: {n}", "tr": "Sahiplenilen öğrenciler: {n}"},
    "adm_import_claimed_hint": {
        "en": "Known from a roster or an attendance record, without an account until now: "
        "they get this name and password.",
        "tr": "Bir öğrenci listesinden ya da yoklama kaydından bilinen, şimdiye dek hesabı "
        "olmayan öğrenciler: bu adı ve şifreyi alırlar.",
    },
    "adm_import_confirm": {"en": "Import these {n} accounts", "tr": "Bu {n} hesabı içe aktar"},
    "adm_imported": {
        "en": "Imported {n} accounts ({claimed} of them claimed students).",
        "tr": "{n} hesap içe aktarıldı ({claimed} tanesi sahiplenilen öğrenci).",
    },
    "adm_problem_columns": {
        "en": "This row needs 4 columns: school_number,full_name,role,password.",
        "tr": "Bu satırda 4 sütun olmalı: school_number,full_name,role,password.",
    },
    "adm_problem_duplicate": {
        "en": "{value} appears twice in the file.",
        "tr": "{value} dosyada iki kez geçiyor.",
    },
    "adm_problem_exists": {
        "en": "{value} already has an account.",
        "tr": "{value} numaralı bir hesap zaten var.",
    },
    "adm_problem_header": {
        "en": "The first line must be school_number,full_name,role,password.",
        "tr": "İlk satır school_number,full_name,role,password olmalı.",
    },
    "adm_problem_empty": {"en": "The file has no users.", "tr": "Dosyada kullanıcı yok."},
    "adm_problem_encoding": {
        "en": "The file must be UTF-8 text.",
        "tr": "Dosya UTF-8 metin olmalı.",
    },
    "adm_problem_other": {"en": "This row is not valid.", "tr": "Bu satır geçerli değil."},
    "adm_when": {"en": "When", "tr": "Ne zaman"},
    "adm_who": {"en": "Who", "tr": "Kim"},
    "adm_account": {"en": "Account", "tr": "Hesap"},
    "adm_what": {"en": "What", "tr": "Ne"},
    "adm_changes_col": {"en": "Before → after", "tr": "Önce → sonra"},
    "adm_audit_intro": {
        "en": "Every change of an account, newest first: who made it, when, and the account "
        "before and after. Passwords are never shown.",
        "tr": "Hesaplardaki her değişiklik, en yenisi önce: kimin yaptığı, ne zaman ve hesabın "
        "önceki ve sonraki hâli. Şifreler hiçbir zaman gösterilmez.",
    },
    "adm_audit_of": {"en": "The changes of {number}.", "tr": "{number} hesabının değişiklikleri."},
    "adm_audit_all": {"en": "Every account's changes", "tr": "Tüm hesapların değişiklikleri"},
    "fld_active": {"en": "Active", "tr": "Etkin"},
    "fld_password_mode": {"en": "First password", "tr": "İlk şifre"},
    # LTI 1.3: launches from a learning platform, the linked course, the platforms' admin page
    "lti_failed_title": {
        "en": "The launch from your course failed",
        "tr": "Dersinizden açılış yapılamadı",
    },
    "lti_failed": {
        "en": "ATTN could not open from your learning platform. Open it again from the course.",
        "tr": "ATTN öğrenme platformunuzdan açılamadı. Dersten yeniden açın.",
    },
    "lti_new_tab_title": {"en": "Open ATTN in a new tab", "tr": "ATTN'yi yeni sekmede açın"},
    "lti_new_tab": {
        "en": "Your browser keeps ATTN from working inside this page. Open it in a tab of its own.",
        "tr": (
            "Tarayıcınız ATTN'nin bu sayfanın içinde çalışmasına "
            "izin vermiyor. Ayrı bir sekmede açın."
        ),
    },
    "lti_open_new_tab": {"en": "Open in a new tab", "tr": "Yeni sekmede aç"},
    "lti_tab_title": {"en": "Continue in a new tab", "tr": "Yeni sekmede devam edin"},
    "lti_tab": {
        "en": "This link opens ATTN in a new tab, signed in as you; it works once, for a minute.",
        "tr": "Bu bağlantı ATTN'yi sizin adınıza yeni sekmede açar; bir kez, bir dakika geçerli.",
    },
    "lti_projector_new_tab": {
        "en": "The projector view in a new tab",
        "tr": "Projeksiyon görünümü yeni sekmede",
    },
    "lti_course_new_tab": {"en": "This page in a new tab", "tr": "Bu sayfa yeni sekmede"},
    "lti_registered_title": {"en": "ATTN is registered", "tr": "ATTN kaydedildi"},
    "lti_registered": {
        "en": "ATTN is now registered with {platform}. You can close this window.",
        "tr": "ATTN artık {platform} ile kayıtlı. Bu pencereyi kapatabilirsiniz.",
    },
    "lti_course": {"en": "Your course", "tr": "Dersiniz"},
    "lti_no_lesson": {
        "en": "No lesson of this course is open now. When your teacher starts one, look again.",
        "tr": "Bu dersin şu an açık bir yoklaması yok. Öğretmeniniz başlattığında yeniden bakın.",
    },
    "lti_look_again": {"en": "Look again", "tr": "Yeniden bak"},
    "lti_synced": {
        "en": (
            "Roster synced: {added} added, {left} left, {unknown} "
            "not known to ATTN yet; {students} students."
        ),
        "tr": (
            "Liste eşitlendi: {added} eklendi, {left} ayrıldı, "
            "{unknown} kişi ATTN'de henüz tanınmıyor; {students} öğrenci."
        ),
    },
    "lti_sync_failed": {
        "en": "The last roster sync failed: the learning platform did not answer.",
        "tr": "Son liste eşitlemesi başarısız oldu: öğrenme platformu yanıt vermedi.",
    },
    "lti_open_lesson": {"en": "Open the lesson's roll", "tr": "Dersin yoklamasını aç"},
    "lti_statistics": {
        "en": "The course's attendance statistics",
        "tr": "Dersin yoklama istatistikleri",
    },
    "lti_roster": {
        "en": "Roster from the learning platform",
        "tr": "Öğrenme platformundan öğrenci listesi",
    },
    "lti_synced_at": {"en": "Last synced {when}.", "tr": "Son eşitleme: {when}."},
    "lti_never_synced": {"en": "Not synced yet.", "tr": "Henüz eşitlenmedi."},
    "lti_sync_now": {"en": "Sync now", "tr": "Şimdi eşitle"},
    "lti_roster_changes": {"en": "Latest changes", "tr": "Son değişiklikler"},
    "lti_added": {"en": "added", "tr": "eklenen"},
    "lti_left": {"en": "left", "tr": "ayrılan"},
    "lti_member_status": {"en": "Membership", "tr": "Üyelik"},
    "lti_status_active": {"en": "Member", "tr": "Üye"},
    "lti_status_left": {"en": "Left the course", "tr": "Dersten ayrıldı"},
    "lti_unknown_number": {"en": "not known yet", "tr": "henüz bilinmiyor"},
    "lti_grades": {"en": "Grades in the learning platform", "tr": "Öğrenme platformundaki notlar"},
    "lti_grades_on": {
        "en": 'Each student\'s attendance rate is sent to the grade book as "Attendance".',
        "tr": 'Her öğrencinin devam oranı notlar çizelgesine "Attendance" olarak gönderilir.',
    },
    "lti_grades_off": {
        "en": "Attendance rates are not sent.",
        "tr": "Devam oranları gönderilmiyor.",
    },
    "lti_grades_turn_off": {"en": "Stop sending grades", "tr": "Notları göndermeyi durdur"},
    "lti_grades_turn_on": {"en": "Send grades", "tr": "Notları gönder"},
    "lti_nav": {"en": "Learning platforms", "tr": "Öğrenme platformları"},
    "lti_admin_title": {
        "en": "Learning platforms (LTI 1.3)",
        "tr": "Öğrenme platformları (LTI 1.3)",
    },
    "lti_tool_urls": {"en": "What to paste into the platform", "tr": "Platforma yapıştırılacaklar"},
    "lti_login_url": {"en": "Login initiation URL", "tr": "Giriş başlatma adresi"},
    "lti_launch_url": {"en": "Redirect (launch) URL", "tr": "Yönlendirme (açılış) adresi"},
    "lti_jwks_url": {"en": "Public keyset URL", "tr": "Genel anahtar kümesi adresi"},
    "lti_new_registration_url": {"en": "New registration URL", "tr": "Yeni kayıt adresi"},
    "lti_registration_url": {
        "en": "Paste this one-time URL into the platform's tool registration:",
        "tr": "Bu tek kullanımlık adresi platformun araç kaydına yapıştırın:",
    },
    "lti_platforms": {"en": "Registered platforms", "tr": "Kayıtlı platformlar"},
    "lti_no_platforms": {"en": "No platform is registered.", "tr": "Kayıtlı platform yok."},
    "lti_client_id": {"en": "Client ID", "tr": "İstemci kimliği"},
    "lti_deployments": {"en": "Deployments", "tr": "Dağıtımlar"},
    "lti_remove": {"en": "Remove", "tr": "Kaldır"},
    "lti_add_platform": {"en": "Register a platform by hand", "tr": "Platformu elle kaydet"},
    "lti_add": {"en": "Register", "tr": "Kaydet"},
    "lti_platform_invalid": {
        "en": "Check the fields: every URL must be an http(s) URL, and a deployment id is needed.",
        "tr": "Alanları denetleyin: her adres http(s) olmalı ve bir dağıtım kimliği gerekli.",
    },
    "lti_field_name": {"en": "Name", "tr": "Ad"},
    "lti_field_frame_origins": {
        "en": "Other addresses of its course pages (optional, comma-separated)",
        "tr": "Ders sayfalarının başka adresleri (isteğe bağlı, virgülle ayrılmış)",
    },
    "lti_frame_origins": {"en": "Course pages also at", "tr": "Ders sayfaları ayrıca şurada"},
    "lti_field_issuer": {"en": "Issuer (platform ID)", "tr": "Yayımcı (platform kimliği)"},
    "lti_field_client_id": {"en": "Client ID", "tr": "İstemci kimliği"},
    "lti_field_auth_login_url": {
        "en": "Authentication request URL",
        "tr": "Kimlik doğrulama isteği adresi",
    },
    "lti_field_auth_token_url": {"en": "Access token URL", "tr": "Erişim belirteci adresi"},
    "lti_field_keyset_url": {"en": "Public keyset URL", "tr": "Genel anahtar kümesi adresi"},
    "lti_field_deployment_ids": {
        "en": "Deployment IDs (comma-separated)",
        "tr": "Dağıtım kimlikleri (virgülle ayrılmış)",
    },
    "err_lti_registration_failed": {
        "en": "The registration with the learning platform could not be completed.",
        "tr": "Öğrenme platformuyla kayıt tamamlanamadı.",
    },
    "err_lti_platform_failed": {
        "en": "The learning platform did not answer as expected; try again in a moment.",
        "tr": "Öğrenme platformu beklendiği gibi yanıt vermedi; birazdan yeniden deneyin.",
    },
    "err_lti_not_linked": {
        "en": "This course is not linked to a course of a learning platform.",
        "tr": "Bu ders bir öğrenme platformundaki bir derse bağlı değil.",
    },
    # LTI pages: the course's lesson while it is on
    "lti_lesson_now": {"en": "The lesson is on now", "tr": "Ders şu an açık"},
}

# Error messages by the error's code (`err_<code>`): every code of `attn.errors` has one in
# both languages (tests/web/test_catalogue.py); `{name}` is filled with the error's attribute.
ERRORS: dict[str, tuple[str, str]] = {
    "missing_credentials": (
        "Type your school number and password.",
        "Okul numaranızı ve şifrenizi yazın.",
    ),
    "invalid_credentials": (
        "The school number or password is wrong.",
        "Okul numarası ya da şifre yanlış.",
    ),
    "too_many_attempts": (
        "Too many attempts; try again later.",
        "Çok fazla deneme yapıldı; biraz sonra yeniden deneyin.",
    ),
    "too_many_streams": (
        "You have as many live rolls open as allowed; close one first.",
        "İzin verilen sayıda canlı yoklama listesi zaten açık; önce birini kapatın.",
    ),
    "service_unavailable": (
        "The service is briefly unavailable; try again.",
        "Hizmet kısa bir süre için kullanılamıyor; yeniden deneyin.",
    ),
    "lesson_not_found": ("No such lesson.", "Böyle bir ders yok."),
    "lesson_not_active": ("The lesson is not active.", "Ders aktif değil."),
    "lesson_already_active": (
        "You already have an active lesson; finish it first.",
        "Zaten aktif bir dersiniz var; önce onu bitirin.",
    ),
    "invalid_code": (
        "The check-in code is wrong or has expired; type the code shown now.",
        "Kod yanlış ya da süresi geçmiş; şu an gösterilen kodu yazın.",
    ),
    "network_not_allowed": (
        "Check-in is only possible from the classroom's network.",
        "Yoklamaya yalnızca sınıfın ağından katılabilirsiniz.",
    ),
    "device_required": (
        "This lesson needs the check-in to come from your own registered device.",
        "Bu derse kendi kayıtlı cihazınızdan katılmanız gerekiyor.",
    ),
    "device_already_used": (
        "This device has already checked in another student for this lesson.",
        "Bu cihazla bu derse başka bir öğrenci zaten katıldı.",
    ),
    "record_not_found": (
        "The student has no record in this lesson.",
        "Öğrencinin bu derste kaydı yok.",
    ),
    "record_exists": (
        "The student already has a record in this lesson.",
        "Öğrencinin bu derste zaten kaydı var.",
    ),
    "student_not_found": (
        "No student with this school number is known.",
        "Bu okul numarasıyla bir öğrenci bulunamadı.",
    ),
    "reason_required": ("A rejection needs a reason.", "Reddetmek için gerekçe yazın."),
    "status_not_allowed": (
        "A teacher can set present, late, rejected, excused or absent.",
        "Öğretmen yalnızca var, geç, reddedildi, mazeretli ya da yok seçebilir.",
    ),
    "record_changed": (
        "The record changed meanwhile; try again.",
        "Kayıt bu arada değişti; yeniden deneyin.",
    ),
    "verification_unavailable": (
        "No verifier is configured.",
        "Harici doğrulama hizmeti yapılandırılmamış.",
    ),
    "network_unknown": (
        "Your address is unknown, so list the allowed subnets yourself.",
        "Adresiniz bilinmiyor; izinli alt ağları kendiniz yazın.",
    ),
    "validation_error": ("The form is not valid.", "Form geçerli değil."),
    "cross_site_request": (
        "This form was sent from another site's page, so it was refused. "
        "Open ATTN yourself and try again.",
        "Bu form başka bir sitenin sayfasından gönderildiği için reddedildi. "
        "ATTN'yi kendiniz açıp yeniden deneyin.",
    ),
    "sign_in_form_expired": (
        "The sign-in form had expired or was not opened here. Sign in again with this form.",
        "Giriş formunun süresi dolmuş ya da form burada açılmamış. Bu formla yeniden giriş yapın.",
    ),
    "not_authenticated": (
        "You are not signed in (or your session has ended); sign in again.",
        "Giriş yapmamışsınız (ya da oturumunuz sona erdi); yeniden giriş yapın.",
    ),
    "forbidden": (
        "This is not available to your role.",
        "Bu işlem rolünüz için kullanılamıyor.",
    ),
    "user_exists": (
        "A user with this school number already exists.",
        "Bu okul numarasıyla bir kullanıcı zaten var.",
    ),
    "invalid_user": ("The user's data is not valid.", "Kullanıcı bilgileri geçerli değil."),
    "code_not_enabled": (
        "This lesson does not use a check-in code.",
        "Bu ders yoklama kodu kullanmıyor.",
    ),
    "invalid_roster": (
        "The roster is not a valid CSV file with the header school_number,full_name.",
        "Öğrenci listesi, başlığı school_number,full_name olan geçerli bir CSV dosyası değil.",
    ),
    "roster_not_found": ("This course has no roster.", "Bu dersin öğrenci listesi yok."),
    "invalid_signature": (
        "The signature is missing, wrong or too old.",
        "İmza eksik, yanlış ya da çok eski.",
    ),
    "verification_not_found": (
        "No open verification has this id (it may have timed out).",
        "Bu kimlikle açık bir doğrulama yok (süresi dolmuş olabilir).",
    ),
    "verification_already_answered": (
        "This verification has already been answered.",
        "Bu doğrulama zaten yanıtlandı.",
    ),
    "invalid_refresh_token": (
        "This device is no longer remembered; sign in again.",
        "Bu cihaz artık hatırlanmıyor; yeniden giriş yapın.",
    ),
    "user_not_found": (
        "There is no user with this school number.",
        "Bu okul numarasıyla bir kullanıcı yok.",
    ),
    "last_admin": (
        "This is the last active administrator: make another one first.",
        "Bu, son etkin yönetici: önce başka bir yönetici atayın.",
    ),
    "unknown_account": (
        "There is no ATTN account for you yet; ask your administrator.",
        "Henüz bir ATTN hesabınız yok; yöneticinize başvurun.",
    ),
    "account_disabled": (
        "This account has been deactivated; ask your administrator.",
        "Bu hesap devre dışı bırakıldı; yöneticinize başvurun.",
    ),
    "sso_refused": (
        "Signing in through your identity provider failed. Try again.",
        "Kimlik sağlayıcınız üzerinden giriş yapılamadı. Yeniden deneyin.",
    ),
    "sso_unavailable": (
        "The identity provider cannot be reached now; try again in a moment.",
        "Kimlik sağlayıcısına şu an ulaşılamıyor; birazdan yeniden deneyin.",
    ),
    "account_changed": (
        "This account changed after the page was opened, so nothing was changed. "
        "Look at it again and try once more.",
        "Bu hesap sayfa açıldıktan sonra değişti; hiçbir şey değiştirilmedi. "
        "Hesaba yeniden bakıp bir kez daha deneyin.",
    ),
    "error": ("The request failed.", "İstek yerine getirilemedi."),
}
for _code, (_english, _turkish) in ERRORS.items():
    TEXTS[f"err_{_code}"] = {"en": _english, "tr": _turkish}


def pick_language(query: str | None, cookie: str | None, accept: str | None) -> str:
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    for part in (accept or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def translator(language: str):  # type: ignore[no-untyped-def]
    def translate(key: str) -> str:
        texts = TEXTS.get(key)
        if texts is None:
            return key
        return texts.get(language) or texts["en"]

    return translate
