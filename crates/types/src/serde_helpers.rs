//! The `#[serde(with = …)]` / `deserialize_with` helpers the wire types use: RFC 3339 timestamps
//! with milliseconds, and whole numbers that may arrive written as floats.

/// Serialises timestamps as RFC 3339 in UTC with exactly three fractional digits and `Z`
/// (`2026-01-01T12:00:00.000Z`): spreadsheet and Zapier parsers cope with that form best, and a
/// fixed width keeps values sortable as text.
pub mod rfc3339_millis {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    /// Formats `t` the one way every PartLogic timestamp is written.
    pub fn format(t: &DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    /// serde `serialize_with` target.
    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    /// serde `deserialize_with` target (accepts any RFC 3339 offset).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let raw = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&raw)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }

    /// The same for `Option<DateTime<Utc>>` (`null` when absent).
    pub mod option {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serializer};

        /// serde `serialize_with` target.
        pub fn serialize<S: Serializer>(
            t: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&super::format(t)),
                None => s.serialize_none(),
            }
        }

        /// serde `deserialize_with` target.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            let raw = Option::<String>::deserialize(d)?;
            raw.map(|raw| {
                DateTime::parse_from_rfc3339(&raw)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(serde::de::Error::custom)
            })
            .transpose()
        }
    }
}

/// Whole numbers as JSON Schema counts them: `250` and `250.0` are the same integer, so a client
/// whose JSON library writes every number as a float is not refused.
pub mod whole_numbers {
    use serde::de::{self, Deserializer, SeqAccess, Visitor};

    struct Whole;

    impl Visitor<'_> for Whole {
        type Value = i64;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a whole number")
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom("a whole number that is too large"))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            // 2^63 is exactly representable; anything at or past it does not fit an i64.
            const LIMIT: f64 = 9_223_372_036_854_775_808.0;
            if v.fract() == 0.0 && (-LIMIT..LIMIT).contains(&v) {
                Ok(v as i64)
            } else {
                Err(E::custom("a whole number"))
            }
        }
    }

    struct WholeSeq;

    impl<'de> Visitor<'de> for WholeSeq {
        type Value = Vec<i64>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an array of whole numbers")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<i64>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(n) = seq.next_element::<One>()? {
                out.push(n.0);
            }
            Ok(out)
        }
    }

    struct One(i64);

    impl<'de> de::Deserialize<'de> for One {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(Whole).map(One)
        }
    }

    /// serde `deserialize_with` target for `Vec<i64>`.
    pub fn vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i64>, D::Error> {
        d.deserialize_seq(WholeSeq)
    }

    /// serde `deserialize_with` target for a field that may be absent (outer `None`, with
    /// `#[serde(default)]`), `null` (`Some(None)`) or a whole number.
    pub fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
        option(d).map(Some)
    }

    /// serde `deserialize_with` target for `Option<Vec<i64>>` (`null` is `None`).
    pub fn option_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<i64>>, D::Error> {
        struct Wrapper(Vec<i64>);
        impl<'de> de::Deserialize<'de> for Wrapper {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                vec(d).map(Wrapper)
            }
        }
        Ok(Option::<Wrapper>::deserialize(d)?.map(|w| w.0))
    }

    /// serde `deserialize_with` target for `Option<i64>` (`null` is `None`).
    pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Ok(Option::<One>::deserialize(d)?.map(|o| o.0))
    }

    use serde::Deserialize as _;
}
