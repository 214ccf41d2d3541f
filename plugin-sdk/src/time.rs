//! Timestamps as senders write them, to unix seconds: RFC 3339 (`2019-05-15T15:20:41Z`,
//! `2019-05-15T08:20:41-07:00`, optional fraction) and the forms GitLab also uses
//! (`2021-04-28 21:50:00 +0200`, `2016-08-12 15:26:29 UTC`). A plugin has no clock and needs
//! none for this: it is arithmetic.

/// Unix seconds of `text`, or `None` if it is none of the forms above.
pub fn unix_seconds(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> { text.get(from..to)?.parse().ok() };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if b[13] != b':' || b[16] != b':' || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    // GitLab: a space, then "UTC" or "+0200".
    let spaced;
    if let Some(tail) = rest.strip_prefix(' ') {
        spaced = match tail {
            "UTC" => "Z".to_string(),
            _ if tail.len() == 5 => format!("{}:{}", &tail[..3], &tail[3..]),
            _ => return None,
        };
        rest = &spaced;
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(&rest[3..4], ":") => {
            let sign = match &rest[..1] {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let (h, m): (i64, i64) = (rest[1..3].parse().ok()?, rest[4..6].parse().ok()?);
            sign * (h * 3600 + m * 60)
        }
        _ => return None,
    };
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_forms() {
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_seconds("2019-05-15T15:20:41Z"), Some(1_557_933_641));
        assert_eq!(
            unix_seconds("2019-05-15T08:20:41-07:00"),
            Some(1_557_933_641)
        );
        assert_eq!(
            unix_seconds("2019-05-15T17:20:41.123+02:00"),
            Some(1_557_933_641)
        );
        assert_eq!(unix_seconds("2024-02-29T12:00:00Z"), Some(1_709_208_000));
        assert_eq!(
            unix_seconds("2019-05-15 17:20:41 +0200"),
            Some(1_557_933_641)
        );
        assert_eq!(unix_seconds("2019-05-15 15:20:41 UTC"), Some(1_557_933_641));
        for bad in [
            "",
            "2019-05-15",
            "2019-13-15T15:20:41Z",
            "2019-05-15T15:20:41",
            "2019-05-15T15:20:41+0700",
        ] {
            assert_eq!(unix_seconds(bad), None, "{bad}");
        }
    }
}
