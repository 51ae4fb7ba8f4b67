//! Name normalisation and the nickname table.

/// A name word as matching compares it: lower case, letters only (accents folded for the common Latin
/// letters), so "O'Brien", "OBrien" and "obrien" agree and "José" matches "Jose".
pub fn normalise(word: &str) -> String {
    word.chars()
        .flat_map(char::to_lowercase)
        .filter_map(fold)
        .collect()
}

/// The ASCII letter a Latin letter is written as without its accent; `None` for anything that is not a
/// letter (apostrophes, hyphens, spaces, digits).
fn fold(c: char) -> Option<char> {
    let folded = match c {
        'a'..='z' => c,
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'ī' => 'i',
        'ñ' | 'ń' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'ū' => 'u',
        'ý' | 'ÿ' => 'y',
        'š' | 'ś' => 's',
        'ž' | 'ź' | 'ż' => 'z',
        'ł' => 'l',
        'ß' => 's',
        _ => return None,
    };
    Some(folded)
}

/// Given names and the short forms people register under. Each row is one family: every name in it may
/// be written for any other ("Bill" for "William", "Jon" for "Jonathan"). A short form in two families
/// ("Jon" is short for John and Jonathan) is listed in both, and the two long forms still do not match
/// each other unless they share a row.
const NICKNAMES: &[&[&str]] = &[
    &["abigail", "abby", "abbie", "gail"],
    &["albert", "al", "bert", "bertie"],
    &[
        "alexander",
        "alex",
        "alec",
        "xander",
        "sandy",
        "sasha",
        "lex",
    ],
    &["alexandra", "alex", "alexa", "lexi", "sandra", "sasha"],
    &["alfred", "al", "alf", "fred", "freddie"],
    &["allison", "alison", "ali", "allie"],
    &["andrew", "andy", "drew"],
    &["angela", "angie"],
    &["anthony", "tony", "ant"],
    &["antonio", "tony", "toni"],
    &["barbara", "barb", "barbie", "babs"],
    &["benjamin", "ben", "benji", "benny"],
    &["bradley", "brad"],
    &[
        "catherine",
        "katherine",
        "kathryn",
        "cathy",
        "kathy",
        "kate",
        "katie",
        "kat",
        "cat",
        "kay",
        "kitty",
    ],
    &["charles", "charlie", "chuck", "chas", "chaz"],
    &["charlotte", "charlie", "lottie"],
    &["christina", "christine", "chris", "tina", "chrissy"],
    &["christopher", "chris", "topher", "kit"],
    &["cynthia", "cindy"],
    &["daniel", "dan", "danny"],
    &["danielle", "dani", "elle"],
    &["david", "dave", "davey"],
    &["deborah", "debra", "deb", "debbie"],
    &["dominic", "dom", "nick"],
    &["donald", "don", "donnie"],
    &["dorothy", "dot", "dottie", "dolly"],
    &["douglas", "doug"],
    &["edward", "ed", "eddie", "ted", "teddy", "ned"],
    &[
        "elizabeth",
        "liz",
        "lizzie",
        "beth",
        "betty",
        "betsy",
        "eliza",
        "libby",
        "lisa",
        "ellie",
    ],
    &["emily", "em", "emmy"],
    &["eugene", "gene"],
    &["frances", "fran", "frannie"],
    &["francis", "frank", "fran"],
    &["frederick", "fred", "freddie", "fritz"],
    &["gabriel", "gabe"],
    &["gerald", "gerry", "jerry"],
    &["gregory", "greg"],
    &["harold", "hal", "harry"],
    &["henry", "hank", "harry", "hal"],
    &["isabella", "isabel", "bella", "izzy"],
    &["jacob", "jake", "jay"],
    &["james", "jim", "jimmy", "jamie", "jimbo"],
    &["jeffrey", "geoffrey", "jeff", "geoff"],
    &["jennifer", "jen", "jenny", "jenn"],
    &["jessica", "jess", "jessie"],
    &["john", "jon", "johnny", "jack", "jonny"],
    &["jonathan", "jon", "jonny", "nathan"],
    &["joseph", "joe", "joey", "jos"],
    &["joshua", "josh"],
    &["judith", "judy", "jude"],
    &["katelyn", "kate", "katie"],
    &["kenneth", "ken", "kenny"],
    &["kimberly", "kim", "kimmy"],
    &["lawrence", "laurence", "larry", "laurie"],
    &["leonard", "leo", "len", "lenny"],
    &[
        "margaret", "maggie", "meg", "peggy", "marge", "margie", "greta", "daisy",
    ],
    &["matthew", "matt", "matty"],
    &["megan", "meg"],
    &["michael", "mike", "mikey", "mick", "mickey"],
    &["michelle", "shelly", "micki"],
    &["nathaniel", "nathan", "nate", "nat"],
    &["nicholas", "nick", "nicky", "nico"],
    &["nicole", "nikki", "nicky", "cole"],
    &["pamela", "pam"],
    &["patricia", "pat", "patty", "tricia", "trish"],
    &["patrick", "pat", "paddy", "rick"],
    &["peter", "pete"],
    &["philip", "phillip", "phil"],
    &["rebecca", "becky", "becca"],
    &["richard", "rick", "ricky", "rich", "dick", "richie"],
    &["robert", "rob", "bob", "bobby", "robbie", "bert"],
    &["ronald", "ron", "ronnie"],
    &["samantha", "sam", "sammy"],
    &["samuel", "sam", "sammy"],
    &["sarah", "sara", "sally", "sadie"],
    &["stephanie", "steph"],
    &["stephen", "steven", "steve", "stevie"],
    &["susan", "sue", "susie", "suzy"],
    &["theodore", "theo", "ted", "teddy"],
    &["thomas", "tom", "tommy"],
    &["timothy", "tim", "timmy"],
    &["victoria", "vicky", "tori"],
    &["vincent", "vince", "vinny"],
    &["walter", "walt", "wally"],
    &["william", "will", "bill", "billy", "willie", "liam"],
    &["zachary", "zach", "zack"],
];

/// Whether two normalised given names are written for the same name ("bill"/"william", "jon"/"jonathan").
pub fn nickname_of(a: &str, b: &str) -> bool {
    a != b
        && NICKNAMES
            .iter()
            .any(|family| family.contains(&a) && family.contains(&b))
}

/// The first family a given name belongs to (its long form), or the name itself: a blocking key under which
/// "Bill" and "William" meet.
pub fn canonical(name: &str) -> &str {
    NICKNAMES
        .iter()
        .find(|family| family.contains(&name))
        .map_or(name, |family| family[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising_drops_punctuation_case_and_accents() {
        assert_eq!(normalise("O'Brien"), "obrien");
        assert_eq!(normalise("José"), "jose");
        assert_eq!(normalise("Mary-Jane"), "maryjane");
        assert_eq!(normalise("  SMITH "), "smith");
    }

    #[test]
    fn nicknames_match_their_long_form_and_each_other_within_a_family() {
        assert!(nickname_of("bill", "william"));
        assert!(nickname_of("jon", "jonathan"));
        assert!(nickname_of("jon", "john"));
        assert!(nickname_of("liz", "beth"));
        assert!(!nickname_of("john", "jonathan"));
        assert!(!nickname_of("william", "william"));
        assert!(!nickname_of("mary", "maria"));
    }

    #[test]
    fn canonical_is_the_long_form() {
        assert_eq!(canonical("bill"), "william");
        assert_eq!(canonical("william"), "william");
        assert_eq!(canonical("zelda"), "zelda");
    }

    #[test]
    fn every_family_is_normalised_text() {
        for family in NICKNAMES {
            for name in *family {
                assert_eq!(normalise(name), *name, "{name} is not normalised");
            }
        }
    }
}
