//! What the pages say, in Bahasa Indonesia and in English, side by side:
//! each text is a field, so a template naming a text that does not exist
//! does not compile.

/// The page's language: Indonesian unless the user switched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Id,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "id" => Some(Lang::Id),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Id => &ID,
            Lang::En => &EN,
        }
    }

    /// Picks the text of this language.
    pub fn pick(self, id: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Id => id,
            Lang::En => en,
        }
    }
}

macro_rules! texts {
    ($($key:ident: $id:expr, $en:expr;)*) => {
        /// Every fixed text of the pages.
        pub struct Texts { $(pub $key: &'static str,)* }
        pub static ID: Texts = Texts { $($key: $id,)* };
        pub static EN: Texts = Texts { $($key: $en,)* };
    };
}

texts! {
    app: "Katalog Koperasi", "Cooperative Catalogue";
    skip: "Langsung ke isi", "Skip to content";
    overview: "Ringkasan", "Overview";
    products: "Produk dan listing", "Products and listings";
    upload: "Unggah produk", "Upload products";
    orders: "Pesanan", "Orders";
    downloads: "Unduhan", "Downloads";
    run_now: "Jalankan sekarang", "Run now";
    history: "Riwayat", "History";
    logout: "Keluar", "Log out";
    login: "Masuk", "Log in";
    login_title: "Masuk ke Katalog Koperasi", "Log in to the Cooperative Catalogue";
    username: "Nama pengguna", "User name";
    password: "Kata sandi", "Password";
    login_failed: "Nama pengguna atau kata sandi salah.", "Wrong user name or password.";
    account_flooded: "Akun {user} dikunci sementara: ada {n} percobaan masuk gagal dari berbagai alamat dalam satu jam terakhir. Coba lagi dalam satu jam, atau minta penghubung membukanya (katalog-bridge users unlock {user}).", "The account {user} is locked for now: {n} failed logins from many addresses in the last hour. Try again in an hour, or ask the liaison to lift it (katalog-bridge users unlock {user}).";
    login_expired: "Formulir sudah kedaluwarsa. Silakan coba lagi.", "The form expired. Please try again.";
    logged_out: "Anda sudah keluar.", "You are logged out.";
    session_over: "Sesi Anda sudah berakhir. Silakan masuk lagi.", "Your session ended. Please log in again.";
    liaison: "Penghubung pengadaan kota", "City procurement liaison";
    cooperative: "Koperasi", "Cooperative";
    all: "Semua", "All";
    filter: "Saring", "Filter";
    state: "Status", "State";
    channel: "Saluran", "Channel";
    product: "Produk", "Product";
    member: "Anggota", "Member";
    since: "Sejak", "Since";
    reasons: "Alasan", "Reasons";
    resubmit: "Kirim ulang", "Resubmit";
    resubmitted: "Listing dijadwalkan untuk dikirim ulang pada pengiriman berikutnya.", "The listing will be sent again with the next publish.";
    resubmit_not_applicable: "Listing ini tidak perlu dikirim ulang.", "This listing needs no resubmission.";
    none_found: "Tidak ada data.", "Nothing here.";
    next_page: "Berikutnya", "Next";
    prev_page: "Sebelumnya", "Previous";
    first_page: "Halaman pertama", "First page";
    listings_by_state: "Listing per status", "Listings by state";
    waiting_orders: "Pesanan menunggu konfirmasi", "Orders waiting for confirmation";
    nearest_deadline: "Batas waktu terdekat", "Nearest deadline";
    under_one_day: "kurang dari 1 hari kerja", "under one working day";
    waiting_ppk: "Menunggu persetujuan PPK", "Waiting for the PPK's approval";
    last_runs: "Proses terakhir", "Last runs";
    job: "Pekerjaan", "Job";
    started: "Mulai", "Started";
    finished: "Selesai", "Finished";
    outcome: "Hasil", "Outcome";
    orders_synced: "Pesanan terakhir disinkronkan", "Orders last synced";
    never: "belum pernah", "never";
    order: "Pesanan", "Order";
    buyer: "Pembeli (satuan kerja)", "Buyer (work unit)";
    total: "Total", "Total";
    deadline: "Batas konfirmasi", "Confirmation deadline";
    time_left: "Sisa waktu kerja", "Working time left";
    passed: "sudah lewat", "passed";
    lines: "Barang", "Items";
    quantity: "Jumlah", "Quantity";
    unit_price: "Harga satuan", "Unit price";
    line_total: "Subtotal", "Line total";
    unknown: "tidak diketahui", "unknown";
    waiting_only: "Hanya yang menunggu", "Waiting only";
    accept: "Terima pesanan", "Accept the order";
    reject: "Tolak pesanan", "Reject the order";
    reject_reason: "Alasan penolakan", "Reason for rejecting";
    reason_needed: "Tulis alasan penolakan.", "Write the reason for rejecting.";
    answer_queued: "Jawaban dicatat dan dikirim ke katalog.", "The answer is recorded and sent to the catalogue.";
    answer_later: "Jawaban dicatat; katalog belum bisa dihubungi, akan dicoba lagi.", "The answer is recorded; the catalogue could not be reached, it will be retried.";
    answer_refused: "Katalog menolak jawaban ini", "The catalogue refused this answer";
    answer_given: "Jawaban", "Answer";
    answer_sent: "terkirim", "sent";
    answer_pending: "menunggu dikirim", "waiting to be sent";
    confirm_in_portal: "Konfirmasi pesanan ini di portal e-Katalog (katalog.inaproc.id) dengan menandatangani surat pesanan memakai PrivyID, paling lambat", "Confirm this order in the e-Katalog portal (katalog.inaproc.id) by signing the order letter with PrivyID, at the latest by";
    confirmed_seen: "Konfirmasi terlihat di INAPROC pada", "Confirmation seen on INAPROC at";
    ppk_deadline: "Batas persetujuan PPK", "The PPK's approval deadline";
    status_history: "Riwayat status", "Status history";
    money: "Uang", "Money";
    goods_before_ppn: "Nilai barang sebelum PPN", "Goods before VAT";
    ppn: "PPN", "VAT (PPN)";
    pph22: "PPh 22 dipungut", "Income tax (PPh 22) withheld";
    pnbp: "PNBP", "PNBP fee";
    shipping: "Ongkos kirim", "Shipping";
    net: "Diterima koperasi", "To the cooperative";
    outstanding: "Belum dibayar", "Still unpaid";
    steps: "Setelah pesanan", "After the order";
    record_steps: "Catat langkah setelah pesanan", "Record a step after the order";
    record_on: "Tanggal kejadian", "Day it happened";
    record_on_hint: "Kosongkan untuk hari ini.", "Leave empty for today.";
    record_shipped: "Barang sudah dikirim", "The goods are shipped";
    record_delivered: "Barang sudah diterima pembeli", "The buyer received the goods";
    record_bast: "Nomor BAST (dari satuan kerja)", "BAST number (from the work unit)";
    record_faktur: "Nomor faktur pajak", "Tax invoice number";
    record_invoice: "Nomor tagihan", "Payment invoice number";
    record_order_letter: "Nomor surat pesanan (ditandatangani)", "Order letter number (signed)";
    record_logistics_invoice: "Nomor tagihan ongkos kirim", "Shipping invoice number";
    record_ticket: "Nomor tiket PPK (bayar di luar sistem)", "The PPK's ticket number (paid outside the system)";
    papers: "Berkas untuk pembayaran", "Papers for the payment";
    payments: "Pembayaran", "Payments";
    faktur_month: "Faktur pajak untuk Coretax, pesanan bulan", "Tax invoices for Coretax, orders of the month";
    faktur_write: "Tulis berkas faktur", "Write the invoices' file";
    faktur_none: "Tidak ada pesanan bulan itu yang perlu faktur dan belum ditulis.", "No order of that month needs a tax invoice that is not written yet.";
    faktur_refused: "Berkas faktur tidak ditulis", "The invoices' file is not written";
    faktur_numbers: "Nomor faktur dari Coretax: daftar Pajak Keluaran (XLSX atau CSV)", "Tax invoice numbers from Coretax: its list of output invoices (XLSX or CSV)";
    faktur_numbers_read: "Catat nomor faktur", "Record the numbers";
    faktur_numbers_refused: "Nomor faktur tidak dicatat", "No number recorded";
    faktur_rows: "faktur dibaca", "invoices read";
    faktur_recorded: "nomor dicatat", "numbers recorded";
    faktur_already: "sudah tercatat", "recorded before";
    faktur_not_issued: "belum terbit (tidak dicatat)", "not issued (not recorded)";
    faktur_status: "Status", "Status";
    days_to_pay: "Lama pembayaran per satuan kerja", "Days to pay per work unit";
    days_to_pay_intro: "Hari dari BAST sampai pesanan dibayar lunas; yang paling lambat di atas.", "Days from the BAST to the payment in full; the slowest first.";
    work_unit: "Satuan kerja", "Work unit";
    orders_paid: "Pesanan lunas", "Orders paid";
    days_median: "Median (hari)", "Median (days)";
    days_longest: "Terlama (hari)", "Longest (days)";
    payments_intro: "Unggah rekening koran koperasi (CSV atau XLSX dari internet banking). Kredit yang menyebut nomor pesanan, atau yang jumlahnya hanya cocok dengan satu pesanan yang belum dibayar, langsung dicatat lunas. Sisanya tampil di bawah untuk ditetapkan. Mengunggah rekening koran yang sama dua kali tidak mencatat apa pun dua kali.", "Upload the cooperative's bank statement (CSV or XLSX from internet banking). A credit naming an order, or whose amount only one unpaid order expects, is recorded as paid at once. The rest show below to be assigned. Uploading the same statement twice records nothing twice.";
    bank_format: "Format bank", "Bank's format";
    credits_read: "kredit dibaca", "credits read";
    credits_already: "sudah diimpor sebelumnya", "imported before";
    credits_matched: "cocok dan dicatat lunas", "matched and recorded as paid";
    credits_open: "menunggu ditetapkan", "waiting to be assigned";
    credits_waiting: "Kredit yang menunggu ditetapkan", "Credits waiting to be assigned";
    credits_recent: "Kredit yang sudah dicatat", "Credits recorded";
    credit_day: "Tanggal", "Day";
    credit_amount: "Jumlah", "Amount";
    credit_words: "Keterangan", "Description";
    credit_state: "Keadaan", "State";
    assign: "Tetapkan", "Assign";
    assign_to: "Pesanan yang dibayar", "The order it pays";
    assigned: "Kredit dicatat sebagai pembayaran pesanan", "The credit is recorded as the payment of order";
    assign_refused: "Tidak tercatat: pilih pesanan koperasi ini yang dibayar kredit tersebut.", "Not recorded: choose the order of this cooperative that the credit pays.";
    no_open_credits: "Tidak ada kredit yang menunggu.", "No credit is waiting.";
    no_unpaid_orders: "Tidak ada pesanan koperasi ini yang belum dibayar: kredit ini bukan pembayaran pesanan.", "No order of this cooperative is unpaid: this credit pays no order.";
    next_step: "Langkah berikutnya", "Next step";
    paper_done: "lengkap", "done";
    paper_missing: "belum ada", "missing";
    record_paid: "Jumlah diterima sejauh ini (Rp)", "Amount received so far (Rp)";
    record_payment: "Cara bayar", "Way of paying";
    record_payment_keep: "(tidak diubah)", "(unchanged)";
    record_button: "Catat", "Record";
    recorded: "Langkah tercatat.", "The steps are recorded.";
    record_nothing: "Tidak ada yang dicatat: isi paling sedikit satu langkah.", "Nothing recorded: fill in at least one step.";
    record_bast_needed: "Tidak tercatat: nomor BAST wajib diisi, seperti ditulis satuan kerja.", "Not recorded: the BAST needs its number, as the work unit wrote it.";
    record_faktur_needed: "Tidak tercatat: nomor faktur pajak wajib diisi.", "Not recorded: the tax invoice needs its number.";
    record_ticket_needed: "Tidak tercatat: nomor tiket PPK wajib diisi.", "Not recorded: the PPK's ticket needs its number.";
    record_route_limit: "Tidak tercatat: cara bayar ini tidak menerima pesanan sebesar ini (batas KKP).", "Not recorded: this way of paying does not take an order this large (the card's ceiling).";
    record_paid_bad: "Tidak tercatat: jumlah diterima harus angka rupiah, mis. 131.439.", "Not recorded: the amount received must be rupiah, e.g. 131.439.";
    record_day_bad: "Tidak tercatat: tanggal tidak terbaca.", "Not recorded: the day cannot be read.";
    record_other: "Tidak tercatat: periksa isian (paling panjang 100 karakter).", "Not recorded: check the fields (at most 100 characters each).";
    not_yet: "belum", "not yet";
    overdue: "TERLAMBAT", "OVERDUE";
    due: "jatuh tempo", "due";
    notifications: "Pemberitahuan", "Notifications";
    order_date: "Tanggal pesanan", "Order date";
    amount_mismatch: "Jumlah baris tidak sama dengan total pesanan.", "The lines do not add up to the order's total.";
    unrouted: "baris tidak cocok dengan produk koperasi", "lines match none of the cooperative's products";
    upload_intro: "Unggah daftar produk koperasi (CSV atau XLSX). Baris yang benar langsung masuk; baris yang salah ditolak dengan nomor baris, kolom dan alasannya.", "Upload the cooperative's product list (CSV or XLSX). Good rows go in at once; bad rows are refused with their row, column and reason.";
    file: "Berkas", "File";
    send: "Unggah", "Upload";
    templates: "Contoh berkas", "Templates";
    template_xlsx: "Templat produk (XLSX)", "Product template (XLSX)";
    template_csv: "Templat produk (CSV)", "Product template (CSV)";
    rows_read: "baris dibaca", "rows read";
    rows_in: "baris masuk", "rows went in";
    rows_refused: "baris ditolak", "rows refused";
    row: "Baris", "Row";
    column: "Kolom", "Column";
    reason: "Alasan", "Reason";
    more_refused: "baris lain juga ditolak", "more rows were refused";
    upload_failed: "Berkas tidak dapat dibaca", "The file cannot be read";
    no_file: "Pilih berkas untuk diunggah.", "Choose a file to upload.";
    orders_csv: "Pesanan (CSV)", "Orders (CSV)";
    orders_xlsx: "Pesanan (XLSX)", "Orders (XLSX)";
    workbook: "Buku kerja unggah massal e-Katalog (XLSX)", "e-Katalog bulk-upload workbook (XLSX)";
    downloads_intro: "Unduh pesanan koperasi, buku kerja unggah massal, dan berkas faktur pajak untuk Coretax; lalu catat nomor fakturnya dari daftar Pajak Keluaran Coretax.", "Download the cooperative's orders, the bulk-upload workbooks and the tax invoices for Coretax; then record their numbers from Coretax's list of output invoices.";
    run_intro: "Mulai pekerjaan sekarang tanpa menunggu jadwal. Pekerjaan yang sedang berjalan tidak dimulai dua kali.", "Start a job now without waiting for its schedule. A job that is running is not started twice.";
    start: "Mulai", "Start";
    run_started: "Pekerjaan dimulai:", "Started:";
    run_busy: "Pekerjaan ini sedang berjalan di", "This job is running on";
    running_now: "Sedang berjalan", "Running now";
    runs: "Proses", "Runs";
    audit: "Catatan tindakan", "Audit log";
    when: "Waktu", "When";
    who: "Oleh", "Who";
    action: "Tindakan", "Action";
    subject: "Objek", "Subject";
    error: "Galat", "Error";
    unavailable: "Data sebentar tidak tersedia", "Data unavailable for a moment";
    unavailable_text: "Basis data tidak dapat dihubungi saat ini. Tidak ada yang hilang: tunggu sebentar, lalu muat ulang halaman ini.", "The database cannot be reached just now. Nothing is lost: wait a moment, then reload this page.";
    not_found: "Halaman tidak ditemukan", "Page not found";
    not_found_text: "Halaman atau data yang Anda cari tidak ada.", "The page or record you asked for does not exist.";
    bad_request: "Permintaan tidak dapat diproses", "The request cannot be processed";
    csrf_failed: "Formulir ini sudah tidak berlaku. Muat ulang halaman lalu coba lagi.", "This form is no longer valid. Reload the page and try again.";
    server_error: "Terjadi galat di server. Coba lagi sebentar lagi; bila berulang, hubungi penghubung pengadaan.", "Something went wrong on the server. Try again shortly; if it happens again, tell the procurement liaison.";
    throttled: "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam", "Too many failed logins. Try again in";
    seconds: "detik", "seconds";
    back: "Kembali", "Back";
    live_on_inaproc: "Tayang di INAPROC", "Live on INAPROC";
    yes: "ya", "yes";
    no: "tidak", "no";
    held_back_count: "ditahan karena data belum lengkap", "held back by missing data";
    language: "Bahasa", "Language";
    view: "Lihat", "View";
    not_answerable: "Pesanan ini tidak menunggu jawaban.", "This order is not waiting for an answer.";
    product_new: "Produk baru", "New product";
    add_product: "Tambah produk", "Add a product";
    product_details: "Data produk", "Product details";
    save: "Simpan", "Save";
    product_saved: "Produk tersimpan.", "The product is saved.";
    product_refused: "Belum tersimpan: perbaiki isian yang ditandai.", "Not saved yet: correct the marked fields.";
    product_choose_cooperative: "Belum tersimpan: pilih koperasinya.", "Not saved yet: choose the cooperative.";
    fixed_hint: "Tidak dapat diubah (nama produk di katalog); buat produk baru bila perlu.", "Cannot change (it names the product in the catalogue); add a new product if needed.";
    required_mark: "wajib", "required";
    product_withdrawn: "Produk ditarik: tidak dijual lagi di katalog.", "The product is withdrawn: no longer sold on the catalogue.";
    product_reactivated: "Produk dijual lagi.", "The product is on sale again.";
    withdrawn_note: "Produk ini sudah ditarik dari katalog.", "This product is withdrawn from the catalogue.";
    withdraw: "Tarik dari katalog", "Withdraw from the catalogue";
    reactivate: "Jual lagi", "Sell again";
    photos: "Foto", "Photos";
    photo_intro: "JPEG, PNG atau WebP, paling sedikit 300 × 300 piksel. Foto disimpan ulang tanpa data lokasi (EXIF) dan paling besar 1.600 piksel.", "JPEG, PNG or WebP, at least 300 × 300 pixels. Photos are saved again without location data (EXIF), at most 1,600 pixels.";
    no_photos: "Belum ada foto.", "No photos yet.";
    photo_main: "Foto utama", "Main photo";
    make_main: "Jadikan utama", "Make main";
    remove: "Hapus", "Remove";
    take_photo: "Ambil foto dengan kamera", "Take a photo with the camera";
    from_gallery: "Pilih dari galeri", "Choose from the gallery";
    send_photo: "Kirim foto", "Send the photo";
    photo_added: "Foto ditambahkan.", "The photo is added.";
    photo_already: "Foto ini sudah ada pada produk.", "The product already has this photo.";
    photo_made_main: "Foto utama diganti.", "The main photo is changed.";
    photo_removed: "Foto dihapus dari produk.", "The photo is removed from the product.";
    photo_refused: "Foto ditolak", "The photo was refused";
    photo_none: "Pilih atau ambil foto lebih dahulu.", "Choose or take a photo first.";
    photos_full: "Foto ditolak: produk sudah punya {n} foto, batas katalog. Hapus satu dahulu.", "The photo was refused: the product already has {n} photos, the catalogue's limit. Remove one first.";
    short_stock: "Stok tidak cukup untuk pesanan ini: periksa sebelum menerimanya.", "Not enough stock for this order: check before accepting it.";
    on_the_catalogue: "Di katalog", "On the catalogue";
    send_now: "Kirim sekarang", "Send now";
    send_done: "Terkirim: katalog menerima produk ini.", "Sent: the catalogue took the product.";
    send_refused: "Katalog menolak produk ini:", "The catalogue refused the product:";
    send_later: "Belum terkirim: katalog sedang tidak menjawab; dicoba lagi pada pengiriman berikutnya.", "Not sent yet: the catalogue did not answer; it is tried again at the next publish.";
    send_nothing: "Tidak ada yang dikirim.", "Nothing was sent.";
    send_busy: "Pengiriman terjadwal sedang berjalan: produk ini ikut dikirim di dalamnya.", "A scheduled publish is running: the product goes with it.";
    send_failed: "Gagal mengirim; coba lagi sebentar lagi.", "Sending failed; try again shortly.";
}
