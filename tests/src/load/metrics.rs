//! The server's own view of the run, from its Prometheus `/metrics`: mean time per HTTP route and per CRM
//! operation during the measured window (the difference of two scrapes, each over every instance), which separates
//! the server's work from the network and the load generator around it.

use std::collections::BTreeMap;

use serde::Serialize;

/// The histograms callbridge exports (other servers simply have none).
const HTTP_DURATION: &str = "callbridge_http_request_duration_seconds";
const CRM_DURATION: &str = "callbridge_crm_call_duration_seconds";

/// `(sum of seconds, count)` per series, keyed `http GET /contact` or `crm findContact`.
pub type Scrape = BTreeMap<String, (f64, u64)>;

/// One series' figures over the window.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ServerTiming {
    pub series: String,
    pub count: u64,
    pub mean_ms: f64,
}

/// Reads the duration histograms' `_sum` and `_count` lines out of a Prometheus text exposition.
pub fn parse(text: &str) -> Scrape {
    let mut scrape = Scrape::new();
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else { continue };
        let Some((name, labels)) = series.split_once('{') else { continue };
        let (metric, is_sum) = match (name.strip_suffix("_sum"), name.strip_suffix("_count")) {
            (Some(metric), _) => (metric, true),
            (_, Some(metric)) => (metric, false),
            _ => continue,
        };
        let labels = labels.trim_end_matches('}');
        let label = |key: &str| {
            labels.split(',').find_map(|pair| pair.strip_prefix(key)?.strip_prefix("=\"")?.strip_suffix('"'))
        };
        let key = match metric {
            HTTP_DURATION => format!("http {} {}", label("method").unwrap_or("?"), label("route").unwrap_or("?")),
            CRM_DURATION => format!("crm {}", label("operation").unwrap_or("?")),
            _ => continue,
        };
        let Ok(value) = value.trim().parse::<f64>() else { continue };
        let entry = scrape.entry(key).or_default();
        if is_sum {
            entry.0 += value;
        } else {
            entry.1 += value as u64;
        }
    }
    scrape
}

/// The mean of each series between two scrapes; series with no new observations are left out.
pub fn window(before: &Scrape, after: &Scrape) -> Vec<ServerTiming> {
    after
        .iter()
        .filter_map(|(series, (sum, count))| {
            let (sum_before, count_before) = before.get(series).copied().unwrap_or_default();
            let count = count.checked_sub(count_before).filter(|count| *count > 0)?;
            Some(ServerTiming { series: series.clone(), count, mean_ms: (sum - sum_before) * 1000.0 / count as f64 })
        })
        .collect()
}

/// Scrapes every instance's `/metrics` and adds their series up (sums and counts), so the window's means are over
/// all of them; `None` when any instance has no such endpoint.
pub async fn scrape_all(http: &reqwest::Client, base_urls: &[String]) -> Option<Scrape> {
    let mut total = Scrape::new();
    for base_url in base_urls {
        for (series, (sum, count)) in scrape(http, base_url).await? {
            let entry = total.entry(series).or_default();
            entry.0 += sum;
            entry.1 += count;
        }
    }
    Some(total)
}

/// Scrapes `<base_url>/metrics`; `None` when the server has no such endpoint.
pub async fn scrape(http: &reqwest::Client, base_url: &str) -> Option<Scrape> {
    let response = http.get(format!("{base_url}/metrics")).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    Some(parse(&response.text().await.ok()?))
}
