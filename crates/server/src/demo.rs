//! Demo data: a realistic account to click through and point integrations at. README.md lists
//! what it contains. Generated deterministically, so every demo database looks the same.

use chrono::{DateTime, Duration, Utc};
use partlogic_entity::{account, stock};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::accounts::admin::{self, AdminError};

/// Every demo user's password.
pub const PASSWORD: &str = "partlogic-demo";

const ACME_SITES: [(&str, [&str; 7]); 4] = [
    (
        "North Plant",
        [
            "NP Main Stores",
            "NP Tool Crib",
            "NP Maintenance Cage",
            "NP Vending 1",
            "NP Vending 2",
            "NP Line 3 Kanban",
            "NP Paint Shop",
        ],
    ),
    (
        "South Plant",
        [
            "SP Main Stores",
            "SP Tool Crib",
            "SP Welding Bay",
            "SP Vending 1",
            "SP Vending 2",
            "SP Assembly Kanban",
            "SP Quality Lab",
        ],
    ),
    (
        "Harbour Depot",
        [
            "HD Warehouse A",
            "HD Warehouse B",
            "HD Workshop Crib",
            "HD Vending 1",
            "HD Reefer Spares",
            "HD Forklift Bay",
            "HD Dock Stores",
        ],
    ),
    (
        "Airport Hangar",
        [
            "AH Hangar Stores",
            "AH Tool Crib",
            "AH Consumables Vending",
            "AH Avionics Cage",
            "AH Ground Support",
            "AH Hazmat Locker",
            "AH Line Maintenance",
        ],
    ),
];

/// The item families stock is drawn from: (SKU stem, description, typical max).
const CATALOGUE: [(&str, &str, i64); 40] = [
    ("BRG-6204", "Deep groove ball bearing 6204-2RS", 40),
    ("BRG-6305", "Deep groove ball bearing 6305-ZZ", 30),
    ("BLT-M8X30", "Hex bolt M8 x 30 grade 8.8 zinc", 500),
    ("BLT-M10X50", "Hex bolt M10 x 50 grade 8.8 zinc", 400),
    ("NUT-M8", "Hex nut M8 zinc", 800),
    ("NUT-M10", "Nyloc nut M10 A2 stainless", 600),
    ("WSH-M8", "Flat washer M8 form A", 1000),
    ("SCR-4X40", "Wood screw 4 x 40 pozi", 900),
    ("GLV-NIT-L", "Nitrile gloves large (box of 100)", 60),
    ("GLV-CUT5-M", "Cut level 5 gloves medium", 80),
    ("EAR-PLUG", "Foam ear plugs (pair)", 400),
    ("GOG-CLR", "Safety goggles clear anti-fog", 50),
    ("DRL-HSS-6", "HSS drill bit 6 mm", 120),
    ("DRL-HSS-10", "HSS drill bit 10 mm", 80),
    ("DSC-CUT-115", "Cutting disc 115 mm steel", 200),
    ("DSC-FLP-125", "Flap disc 125 mm 80 grit", 150),
    ("TAP-PTFE", "PTFE thread seal tape 12 mm", 120),
    ("TAP-DUCT", "Duct tape 48 mm x 50 m silver", 60),
    ("CBL-TIE-300", "Cable tie 300 x 4.8 mm black (100)", 100),
    ("FUS-10A", "Cartridge fuse 10 A", 200),
    ("FUS-13A", "Cartridge fuse 13 A", 200),
    ("LMP-LED-T8", "LED tube T8 1200 mm", 40),
    ("BAT-AA", "Alkaline battery AA", 300),
    ("BAT-9V", "Alkaline battery 9 V", 100),
    ("OIL-HYD-46", "Hydraulic oil ISO 46 (5 L)", 20),
    ("GRS-EP2", "EP2 grease cartridge 400 g", 60),
    ("FLT-AIR-01", "Compressor air filter element", 12),
    ("FLT-OIL-02", "Hydraulic oil filter", 15),
    ("BLT-V-A38", "V-belt A38", 20),
    ("BLT-V-B52", "V-belt B52", 16),
    ("ORG-NBR-KIT", "O-ring kit NBR metric", 10),
    ("SPR-PAINT-RD", "Marking spray paint red", 48),
    ("WLD-ROD-2.5", "Welding rod E6013 2.5 mm (kg)", 40),
    ("WLD-WIR-0.8", "MIG wire 0.8 mm (5 kg)", 12),
    ("ABS-PAD", "Absorbent pad universal (pack of 50)", 30),
    ("MSK-FFP3", "FFP3 respirator mask", 200),
    ("HIV-VEST-L", "Hi-vis vest large", 40),
    ("KNF-SAFE", "Safety knife retractable", 60),
    ("CLN-IPA", "Isopropyl alcohol wipes (tub)", 36),
    ("LUB-WD40", "Penetrating lubricant 400 ml", 72),
];

/// A tiny deterministic generator (xorshift64*): the demo must look the same every time.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Seeds the demo data unless the database already has an account.
pub async fn seed_if_empty(db: &sea_orm::DatabaseConnection) -> Result<bool, AdminError> {
    if account::Entity::find().count(db).await? > 0 {
        return Ok(false);
    }
    seed(db, Utc::now()).await?;
    Ok(true)
}

/// Writes the demo data in one transaction.
pub async fn seed(db: &sea_orm::DatabaseConnection, now: DateTime<Utc>) -> Result<(), AdminError> {
    let txn = crate::db::begin_write(db).await?;
    let mut rng = Rng(0x5EED_1234_ABCD_0001);

    let acme = admin::add_account(&txn, "Acme Manufacturing", now).await?;
    let mut member_devices = Vec::new();
    for (site, devices) in ACME_SITES {
        let customer = admin::ensure_customer(&txn, acme.id, site).await?;
        for name in devices {
            let d = admin::add_device(&txn, acme.id, customer.id, name).await?;
            add_stock(&txn, d.id, 120, &mut rng, now).await?;
            if site == "North Plant" || site == "Harbour Depot" {
                member_devices.push(admin::DeviceRef::Name(name.to_owned()));
            }
        }
    }
    let alex = admin::add_user(
        &txn,
        acme.id,
        "admin@acme.example",
        "Alex Admin",
        PASSWORD,
        true,
        now,
    )
    .await?;
    admin::add_user(
        &txn,
        acme.id,
        "member@acme.example",
        "Morgan Member",
        PASSWORD,
        false,
        now,
    )
    .await?;
    admin::grant(&txn, "member@acme.example", &member_devices).await?;

    let globex = admin::add_account(&txn, "Globex", now).await?;
    let springfield = admin::ensure_customer(&txn, globex.id, "Globex Springfield").await?;
    for name in ["GX Central Stores", "GX Reactor Tool Crib", "GX Vending 1"] {
        let d = admin::add_device(&txn, globex.id, springfield.id, name).await?;
        add_stock(&txn, d.id, 60, &mut rng, now).await?;
    }
    admin::add_user(
        &txn,
        globex.id,
        "admin@globex.example",
        "Glenn Globex",
        PASSWORD,
        true,
        now,
    )
    .await?;
    add_alert_history(&txn, now).await?;
    // After the history: receiving writes alerts too, and ids must follow time.
    add_orders(&txn, acme.id, &alex, now).await?;
    txn.commit().await?;
    Ok(())
}

async fn add_stock(
    db: &impl ConnectionTrait,
    device_id: i64,
    rows: usize,
    rng: &mut Rng,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut batch = Vec::with_capacity(rows);
    let bins = ["A", "B", "C", "D", "E"];
    for i in 0..rows {
        let (stem, description, typical) = CATALOGUE[i % CATALOGUE.len()];
        let variant = i / CATALOGUE.len();
        let sku = if variant == 0 {
            stem.to_owned()
        } else {
            format!("{stem}-V{variant}")
        };
        let max = (typical + rng.below(typical as u64 / 2 + 1) as i64).max(2);
        let min = (max / 4).max(1);
        // About one row in eight is below its reorder point, so the demo has work to show.
        let physical = if rng.below(8) == 0 {
            rng.below(min as u64) as i64
        } else {
            min + rng.below((max - min + 1) as u64) as i64
        };
        let minutes = rng.below(60 * 24 * 30) as i64;
        batch.push(stock::ActiveModel {
            device_id: Set(device_id),
            sku: Set(sku),
            description: Set(if variant == 0 {
                description.to_owned()
            } else {
                format!("{description} (alt. supplier {variant})")
            }),
            min_qty: Set(min),
            max_qty: Set(max),
            physical: Set(physical),
            location: Set(format!(
                "{}-{:02}-{:02}",
                bins[i % bins.len()],
                1 + i / 25,
                1 + i % 25
            )),
            updated_at: Set(now - Duration::minutes(minutes)),
            ..Default::default()
        });
    }
    crate::stock::writes::insert(db, batch).await
}

/// A few days of stock movements on every device's first two rows, made through the one stock
/// writer so that they record alerts as real changes do: the first row falls below its minimum
/// three days ago and is restocked two days ago, the second falls below yesterday and stays
/// there. Applied in time order across all devices, so that alerts' ids (newest first in
/// `/api/stock/alerts`) follow their times. A fresh demo shows both kinds in
/// `/api/stock/alerts`, the Sheets recipe's Alerts sheet and the Zapier guide's sample.
async fn add_alert_history(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<(), DbErr> {
    let devices: Vec<i64> = partlogic_entity::device::Entity::find()
        .select_only()
        .column(partlogic_entity::device::Column::Id)
        .order_by_asc(partlogic_entity::device::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    // (hours ago, which of the device's first two rows, below its minimum afterwards?)
    let steps: [(i64, usize, bool); 5] = [
        (96, 0, false),
        (72, 0, true),
        (48, 0, false),
        (30, 1, false),
        (20, 1, true),
    ];
    for (hours, row, below) in steps {
        for device_id in &devices {
            let rows = stock::Entity::find()
                .filter(stock::Column::DeviceId.eq(*device_id))
                .order_by_asc(stock::Column::Id)
                .limit(2)
                .all(db)
                .await?;
            let Some(current) = rows.into_iter().nth(row) else {
                continue;
            };
            let physical = if below {
                current.min_qty - 1
            } else {
                current.max_qty
            };
            let change = crate::stock::writes::RowChange {
                physical: Some(physical),
                ..Default::default()
            };
            crate::stock::writes::update(db, current, change, now - Duration::hours(hours)).await?;
        }
    }
    Ok(())
}

/// Five orders in Acme's first devices, one of each kind, made and moved through the orders
/// store as people would: PO-000001 open (device 1: BRG-6204 ×10, GLV-NIT-L ×2),
/// PO-000002 partly received, PO-000003 received, PO-000004 cancelled, PO-000005 open with
/// nothing received. The API document's examples use orders 1 (receive) and 5 (cancel).
async fn add_orders(
    db: &impl ConnectionTrait,
    account_id: i64,
    by: &partlogic_entity::user::Model,
    now: DateTime<Utc>,
) -> Result<(), AdminError> {
    use crate::orders::parse::{NewLine, NewOrder, Receipt};
    use crate::orders::store;
    let actor = store::Actor::User {
        id: by.id,
        name: by.name.clone(),
        email: by.email.clone(),
    };
    let devices: Vec<i64> = partlogic_entity::device::Entity::find()
        .select_only()
        .column(partlogic_entity::device::Column::Id)
        .filter(partlogic_entity::device::Column::AccountId.eq(account_id))
        .order_by_asc(partlogic_entity::device::Column::Id)
        .limit(3)
        .into_tuple()
        .all(db)
        .await?;
    let [d1, d2, d3] = devices[..] else {
        return Ok(());
    };
    let line = |sku: &str, quantity: i64| NewLine {
        sku: sku.to_owned(),
        quantity,
    };
    let plans = [
        (
            d1,
            vec![line("BRG-6204", 10), line("GLV-NIT-L", 2)],
            "sheet-row-2",
            50,
        ),
        (
            d1,
            vec![line("NUT-M8", 200), line("WSH-M8", 300)],
            "sheet-row-3",
            40,
        ),
        (d2, vec![line("EAR-PLUG", 100)], "sheet-row-4", 30),
        (d3, vec![line("TAP-DUCT", 6)], "sheet-row-5", 20),
        (d2, vec![line("GOG-CLR", 12)], "sheet-row-6", 10),
    ];
    let fail = |e: crate::error::ApiError| AdminError::Invalid(format!("demo orders: {e}"));
    let numbers = crate::orders::numbers::Numbers::contiguous();
    for (n, (device_id, lines, reference, hours)) in plans.into_iter().enumerate() {
        let at = now - Duration::hours(hours);
        let new = NewOrder {
            device_id,
            lines,
            reference: Some(reference.to_owned()),
            note: None,
        };
        let device = partlogic_types::OrderDevice {
            id: device_id,
            name: String::new(),
            customer: String::new(),
        };
        let (order, _) =
            crate::orders::create::create(db, &numbers, account_id, &device, &new, &actor, at)
                .await
                .map_err(fail)?;
        let later = at + Duration::hours(1);
        match n {
            1 => {
                let receipt = Receipt::Lines(vec![(0, "NUT-M8".to_owned(), 200)]);
                store::receive(db, &order, &receipt, &actor, later)
                    .await
                    .map_err(fail)?;
            }
            2 => store::receive(db, &order, &Receipt::Everything, &actor, later)
                .await
                .map_err(fail)?,
            3 => store::cancel(db, &order, &actor, later)
                .await
                .map_err(fail)?,
            _ => {}
        }
    }
    Ok(())
}

/// [`seed_if_empty`] in the shape [`crate::db::prepare`] takes, so the demo data is seeded under
/// the start-up lock.
pub async fn seed_empty(db: sea_orm::DatabaseConnection) -> Result<bool, String> {
    seed_if_empty(&db).await.map_err(|e| e.to_string())
}
