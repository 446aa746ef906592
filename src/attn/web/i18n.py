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
    "excuse": {"en": "Excuse", "tr": "Mazeretli say"},
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
    "checked_in": {"en": "checked in", "tr": "katıldı"},
    "code": {"en": "Code", "tr": "Kod"},
    "seconds_left": {"en": "seconds left", "tr": "saniye kaldı"},
    "scan": {"en": "Scan the QR code or type the code", "tr": "QR kodu okutun ya da kodu yazın"},
    "find": {"en": "Find", "tr": "Bul"},
    "no_lessons_found": {
        "en": "No active lesson with these names.",
        "tr": "Bu adlarla aktif ders yok.",
    },
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
    "administration": {"en": "Administration", "tr": "Yönetim"},
    "admin_intro": {
        "en": "The administration pages are not here yet. Until they are, accounts are "
        "managed on the server with the attn command:",
        "tr": "Yönetim sayfaları henüz hazır değil. O zamana kadar hesaplar sunucuda attn "
        "komutuyla yönetilir:",
    },
    "admin_add": {
        "en": "Add one account (the password is read from standard input):",
        "tr": "Tek bir hesap ekleyin (şifre standart girdiden okunur):",
    },
    "admin_import": {
        "en": "Add many accounts at once from a CSV file with the header "
        "school_number,full_name,role,password (a bad row adds none of them):",
        "tr": "Başlığı school_number,full_name,role,password olan bir CSV dosyasından birçok "
        "hesabı birden ekleyin (hatalı bir satır varsa hiçbiri eklenmez):",
    },
    "admin_roles": {
        "en": "Roles: teacher, student, admin.",
        "tr": "Roller: teacher (öğretmen), student (öğrenci), admin (yönetici).",
    },
    "shared_device": {"en": "same device as another student", "tr": "başka öğrenciyle aynı cihaz"},
    "shared_address": {
        "en": "same address as another student",
        "tr": "başka öğrenciyle aynı adres",
    },
    "skip": {"en": "Skip to content", "tr": "İçeriğe geç"},
    "menu": {"en": "Main", "tr": "Ana menü"},
    # languages and time zones
    "times_in": {
        "en": "Times are in the {zone} time zone.",
        "tr": "Saatler {zone} saat dilimine göredir.",
    },
}

# Error messages by the error's code; codes without a Turkish text show the API's message.
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
