//! Names for generated people: a realistic spread of family names and matching given names.
//!
//! Family names follow a long-tailed distribution: the very common Dutch names, common names of
//! families with roots elsewhere (as found in Amsterdam), and a long tail of rare names composed
//! from Dutch name parts. The frequencies are approximate and meant to look real, not to be
//! statistics.

use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::seq::IndexedRandom;

/// Where a family's name comes from; it steers the given names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    Dutch,
    Elsewhere,
}

/// Frequent family names with their approximate share per mille of the population.
const FREQUENT: &[(&str, f64, Origin)] = &[
    ("de Jong", 5.5, Origin::Dutch),
    ("Jansen", 4.6, Origin::Dutch),
    ("de Vries", 4.2, Origin::Dutch),
    ("van den Berg", 3.7, Origin::Dutch),
    ("van Dijk", 3.6, Origin::Dutch),
    ("Bakker", 3.5, Origin::Dutch),
    ("Janssen", 3.4, Origin::Dutch),
    ("Visser", 3.2, Origin::Dutch),
    ("Smit", 2.9, Origin::Dutch),
    ("Meijer", 2.7, Origin::Dutch),
    ("de Boer", 2.6, Origin::Dutch),
    ("Mulder", 2.4, Origin::Dutch),
    ("de Groot", 2.4, Origin::Dutch),
    ("Bos", 2.3, Origin::Dutch),
    ("Vos", 2.0, Origin::Dutch),
    ("Peters", 2.0, Origin::Dutch),
    ("Hendriks", 2.0, Origin::Dutch),
    ("van Leeuwen", 1.9, Origin::Dutch),
    ("Dekker", 1.8, Origin::Dutch),
    ("Brouwer", 1.8, Origin::Dutch),
    ("de Wit", 1.7, Origin::Dutch),
    ("Dijkstra", 1.7, Origin::Dutch),
    ("Smits", 1.6, Origin::Dutch),
    ("de Graaf", 1.6, Origin::Dutch),
    ("van der Meer", 1.6, Origin::Dutch),
    ("van der Linden", 1.5, Origin::Dutch),
    ("Kok", 1.5, Origin::Dutch),
    ("Jacobs", 1.4, Origin::Dutch),
    ("de Haan", 1.4, Origin::Dutch),
    ("Vermeulen", 1.4, Origin::Dutch),
    ("van den Heuvel", 1.4, Origin::Dutch),
    ("van der Veen", 1.3, Origin::Dutch),
    ("van den Broek", 1.3, Origin::Dutch),
    ("de Bruijn", 1.3, Origin::Dutch),
    ("de Bruin", 1.3, Origin::Dutch),
    ("van der Heijden", 1.3, Origin::Dutch),
    ("Schouten", 1.3, Origin::Dutch),
    ("van Beek", 1.2, Origin::Dutch),
    ("Willems", 1.2, Origin::Dutch),
    ("van Vliet", 1.2, Origin::Dutch),
    ("Hoekstra", 1.2, Origin::Dutch),
    ("Maas", 1.2, Origin::Dutch),
    ("Verhoeven", 1.2, Origin::Dutch),
    ("Koster", 1.1, Origin::Dutch),
    ("van Dam", 1.1, Origin::Dutch),
    ("Prins", 1.1, Origin::Dutch),
    ("Blom", 1.1, Origin::Dutch),
    ("Huisman", 1.1, Origin::Dutch),
    ("Yılmaz", 1.6, Origin::Elsewhere),
    ("Mohamed", 0.9, Origin::Elsewhere),
    ("Demir", 0.9, Origin::Elsewhere),
    ("Kaya", 1.0, Origin::Elsewhere),
    ("Öztürk", 0.8, Origin::Elsewhere),
    ("Şahin", 0.8, Origin::Elsewhere),
    ("Ahmed", 0.8, Origin::Elsewhere),
    ("Çelik", 0.7, Origin::Elsewhere),
    ("El Amrani", 0.7, Origin::Elsewhere),
    ("Nguyen", 0.7, Origin::Elsewhere),
    ("Aydın", 0.6, Origin::Elsewhere),
    ("Yıldız", 0.6, Origin::Elsewhere),
    ("El Idrissi", 0.6, Origin::Elsewhere),
    ("Bouzid", 0.5, Origin::Elsewhere),
    ("Benali", 0.5, Origin::Elsewhere),
    ("Khan", 0.5, Origin::Elsewhere),
    ("Singh", 0.5, Origin::Elsewhere),
    ("Bouali", 0.4, Origin::Elsewhere),
    ("Tran", 0.4, Origin::Elsewhere),
    ("Mensah", 0.4, Origin::Elsewhere),
    ("Nowak", 0.4, Origin::Elsewhere),
    ("da Silva", 0.4, Origin::Elsewhere),
    ("Chen", 0.4, Origin::Elsewhere),
    ("Owusu", 0.3, Origin::Elsewhere),
    ("Boateng", 0.3, Origin::Elsewhere),
    ("Pinas", 0.3, Origin::Elsewhere),
    ("Wijngaarde", 0.3, Origin::Elsewhere),
    ("Kowalski", 0.3, Origin::Elsewhere),
    ("Rodrigues", 0.3, Origin::Elsewhere),
    ("Kromodimedjo", 0.2, Origin::Elsewhere),
];

/// Names with roots elsewhere that are individually rare.
const RARE_ELSEWHERE: &[&str] = &[
    "Abdellaoui",
    "Achahbar",
    "Ait Hamou",
    "Akkaya",
    "Amoah",
    "Asante",
    "Azzouzi",
    "Badou",
    "Bakkali",
    "Belhaj",
    "Biharie",
    "Bouchtaoui",
    "Chaara",
    "Dogan",
    "Doorson",
    "Eddahbi",
    "El Bakkali",
    "El Hamdaoui",
    "Ergün",
    "Essed",
    "Güler",
    "Haddou",
    "Jadnanansing",
    "Kanhai",
    "Karaca",
    "Koç",
    "Lachmon",
    "Lie",
    "Mahabier",
    "Mansaray",
    "Mertens",
    "Nijman",
    "Ouali",
    "Pham",
    "Ramdin",
    "Sewdien",
    "Soekhoe",
    "Tahiri",
    "Tekin",
    "Wong",
    "Yeboah",
    "Zwart",
];

const TAIL_PREFIX: &[(&str, f64)] = &[
    ("", 0.55),
    ("van ", 0.12),
    ("de ", 0.1),
    ("van der ", 0.08),
    ("van de ", 0.06),
    ("ter ", 0.03),
    ("ten ", 0.03),
    ("van 't ", 0.03),
];

const TAIL_STEM: &[&str] = &[
    "Aal", "Beem", "Bies", "Blaauw", "Boom", "Borg", "Brink", "Broek", "Buis", "Dam", "Dijk",
    "Dool", "Eek", "Elst", "Gaal", "Geer", "Groen", "Haar", "Hag", "Hal", "Heem", "Hoef", "Hoek",
    "Hol", "Hout", "Kamp", "Kerk", "Kleij", "Klok", "Kool", "Kraai", "Laan", "Lamm", "Lin", "Loo",
    "Maat", "Meul", "Mol", "Mos", "Nieuw", "Noord", "Oost", "Pol", "Raat", "Riet", "Rijn", "Roos",
    "Ruyg", "Schip", "Sluis", "Spek", "Steen", "Stok", "Stroo", "Tuin", "Veld", "Ven", "Vink",
    "Wal", "Weer", "Wes", "Wiel", "Wolt", "Zand", "Zee", "Zijl", "Zuid", "Brug", "Gorter", "Hamer",
];

const TAIL_SUFFIX: &[&str] = &[
    "", "stra", "sma", "ink", "man", "mans", "ers", "enga", "ing", "ert", "hof", "huis", "kamp",
    "veld", "berg", "hout", "stein", "ma", "ens", "dijk",
];

const DUTCH_GIVEN_MALE: &[&str] = &[
    "Jan", "Pieter", "Kees", "Henk", "Johan", "Willem", "Thomas", "Daan", "Lucas", "Sem", "Bram",
    "Ruben", "Mark", "Dennis", "Jeroen", "Martijn", "Bas", "Niels", "Tim", "Rob", "Erik", "Sander",
    "Gerrit", "Hans", "Arjen", "Joost", "Wouter", "Stijn", "Jesse", "Finn", "Levi", "Milan",
    "Noah", "Luuk", "Frank", "Marco", "Vincent", "Rick",
];
const DUTCH_GIVEN_FEMALE: &[&str] = &[
    "Anna",
    "Maria",
    "Sanne",
    "Lisa",
    "Emma",
    "Julia",
    "Sophie",
    "Eva",
    "Anouk",
    "Femke",
    "Iris",
    "Lotte",
    "Marieke",
    "Ingrid",
    "Petra",
    "Monique",
    "Linda",
    "Esther",
    "Annemarie",
    "Karin",
    "Fleur",
    "Noor",
    "Saar",
    "Tess",
    "Mila",
    "Nina",
    "Yvonne",
    "Wilma",
    "Els",
    "Ria",
    "Kim",
    "Mirjam",
    "Hanneke",
    "Sara",
];
const OTHER_GIVEN_MALE: &[&str] = &[
    "Mohammed", "Ahmed", "Yusuf", "Mehmet", "Emre", "Ayoub", "Bilal", "Hamza", "Omar", "Kofi",
    "Kwame", "Duc", "Minh", "Rajesh", "Piotr", "Tomasz", "João", "Anil", "Mustafa", "Ilias",
];
const OTHER_GIVEN_FEMALE: &[&str] = &[
    "Fatima",
    "Aicha",
    "Salma",
    "Yasmina",
    "Zeynep",
    "Elif",
    "Ayşe",
    "Merve",
    "Nadia",
    "Samira",
    "Linh",
    "Mai",
    "Priya",
    "Akosua",
    "Agnieszka",
    "Ana",
    "Imane",
    "Sevda",
    "Shanti",
    "Hira",
];

/// Share per mille of the population that carries one of the rare names with roots elsewhere.
const RARE_ELSEWHERE_PER_MILLE: f64 = 8.0;

/// Samples family names and given names.
pub(crate) struct Names {
    frequent: WeightedIndex<f64>,
    /// Index `FREQUENT.len()` is the Dutch tail, `+1` the rare names with roots elsewhere.
    tail_prefix: WeightedIndex<f64>,
}

impl Names {
    pub(crate) fn new() -> Names {
        let frequent_total: f64 = FREQUENT.iter().map(|f| f.1).sum();
        let tail = (1000.0 - frequent_total - RARE_ELSEWHERE_PER_MILLE).max(1.0);
        let weights = FREQUENT
            .iter()
            .map(|f| f.1)
            .chain([tail, RARE_ELSEWHERE_PER_MILLE]);
        Names {
            // INVARIANT: the weights are positive constants.
            frequent: WeightedIndex::new(weights).expect("positive name weights"),
            tail_prefix: WeightedIndex::new(TAIL_PREFIX.iter().map(|p| p.1))
                .expect("positive prefix weights"),
        }
    }

    pub(crate) fn family_name<R: Rng>(&self, rng: &mut R) -> (String, Origin) {
        let i = self.frequent.sample(rng);
        if let Some(&(name, _, origin)) = FREQUENT.get(i) {
            return (name.to_string(), origin);
        }
        if i > FREQUENT.len() {
            let name = RARE_ELSEWHERE.choose(rng).copied().unwrap_or("Lie");
            return (name.to_string(), Origin::Elsewhere);
        }
        // Stem, connector and ending: tens of thousands of combinations, so that a tail name is
        // carried by a handful of families at most.
        let prefix = TAIL_PREFIX[self.tail_prefix.sample(rng)].0;
        let stem = TAIL_STEM.choose(rng).copied().unwrap_or("Veld");
        let connector = ["", "", "e", "s", "en"].choose(rng).copied().unwrap_or("");
        let ending = if rng.random_bool(0.5) {
            TAIL_STEM
                .choose(rng)
                .copied()
                .unwrap_or("veld")
                .to_lowercase()
        } else {
            TAIL_SUFFIX.choose(rng).copied().unwrap_or("").to_string()
        };
        (format!("{prefix}{stem}{connector}{ending}"), Origin::Dutch)
    }

    /// One or (sometimes) two given names.
    pub(crate) fn given_names<R: Rng>(&self, rng: &mut R, origin: Origin, female: bool) -> String {
        // A share of families gives names from the other tradition.
        let elsewhere = (origin == Origin::Elsewhere) != rng.random_bool(0.12);
        let list = match (elsewhere, female) {
            (false, false) => DUTCH_GIVEN_MALE,
            (false, true) => DUTCH_GIVEN_FEMALE,
            (true, false) => OTHER_GIVEN_MALE,
            (true, true) => OTHER_GIVEN_FEMALE,
        };
        let first = list.choose(rng).copied().unwrap_or("Jan");
        if rng.random_bool(0.25) {
            let second = list.choose(rng).copied().unwrap_or("Maria");
            if second != first {
                return format!("{first} {second}");
            }
        }
        first.to_string()
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn frequent_names_are_frequent_and_the_tail_is_long() {
        let names = Names::new();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut counts = std::collections::BTreeMap::new();
        for _ in 0..20_000 {
            *counts
                .entry(names.family_name(&mut rng).0)
                .or_insert(0usize) += 1;
        }
        let de_jong = counts.get("de Jong").copied().unwrap_or(0);
        assert!((60..=160).contains(&de_jong), "de Jong {de_jong}");
        assert!(counts.len() > 8000, "only {} distinct names", counts.len());
        let biggest_rare = counts
            .iter()
            .filter(|(name, _)| !FREQUENT.iter().any(|f| f.0 == name.as_str()))
            .map(|(_, &n)| n)
            .max()
            .unwrap_or(0);
        assert!(biggest_rare <= 20, "a tail name has {biggest_rare} bearers");
    }
}
