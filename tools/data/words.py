"""The word lists both generators draw from: the corpus's categories and hand-written paragraphs, and the
reviews' aspects, adjectives and openers. All written for this course."""

CATEGORIES: dict[str, list[str]] = {
    "animals": ["cat", "dog", "fox", "horse", "rabbit", "owl", "goat", "duck", "hen", "pig"],
    "colours": ["red", "blue", "green", "yellow", "brown", "white", "black", "grey"],
    "fruits": ["apple", "pear", "plum", "cherry", "peach", "lemon", "fig", "melon"],
    "foods": ["bread", "cheese", "soup", "honey", "butter", "cake", "pie", "porridge"],
    "tools": ["hammer", "rope", "ladder", "shovel", "axe", "basket", "lantern", "bucket"],
    "places": [
        "market",
        "river",
        "forest",
        "village",
        "harbour",
        "meadow",
        "mill",
        "bridge",
        "garden",
        "orchard",
    ],
    "weather": ["sunny", "rainy", "windy", "foggy", "snowy", "cloudy", "stormy", "frosty"],
    "days": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
    "numbers": [
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
    ],
    "people": [
        "baker",
        "farmer",
        "teacher",
        "sailor",
        "miller",
        "fisherman",
        "doctor",
        "potter",
        "weaver",
        "shepherd",
        "smith",
        "carpenter",
    ],
    "motion": ["walked", "ran", "hurried", "wandered", "strolled", "rode", "marched", "crept"],
    "emotions": ["happy", "sad", "tired", "angry", "proud", "afraid", "cheerful", "worried"],
}

IRREGULAR_PLURALS = {
    "fox": "foxes",
    "cherry": "cherries",
    "peach": "peaches",
    "axe": "axes",
    "bucket": "buckets",
    "mouse": "mice",
    "sheep": "sheep",
}

# Hand-written paragraphs about the world (original text for this course).
HANDWRITTEN = [
    "the village lies where the river bends twice before it reaches the sea. "
    "a stone bridge joins the two halves of the village, and under it the water is "
    "slow and brown. children throw sticks from one side and run to watch them come "
    "out on the other.",
    "every saturday the market fills the square. the baker brings bread still warm "
    "from the oven, the farmer brings cheese wrapped in cloth, and the potter sets out "
    "bowls in long rows. by noon the square is loud with voices, and by evening only "
    "the pigeons are left, looking for crumbs.",
    "in spring the meadow turns green almost overnight. the goats are let out of the "
    "barn, and they run in circles as if they had forgotten what grass was. the "
    "shepherd sits on a low wall and counts them twice, just to be sure.",
    "summer in the village is slow. the river is low and warm, the orchard is heavy "
    "with fruit, and the mill stops turning in the afternoon heat. people eat their "
    "supper outside and talk until the owls begin to call.",
    "autumn belongs to the orchard. the farmer and her sons climb the ladders with "
    "baskets on their arms, and the apples and pears go into the cellar in neat "
    "wooden boxes. whatever falls to the ground is left for the pigs.",
    "winter comes down from the hills. the first frosty morning covers the bridge in "
    "white, and the fisherman stays at home mending his nets by the fire. the "
    "lanterns are lit early, and the village smells of smoke and soup.",
    "the old mill stands at the edge of the forest. its wheel has turned for a "
    "hundred years, and the miller says it knows the river better than anyone. when "
    "the water is high, the wheel sings; when the water is low, it only mutters.",
    "the harbour is small, with room for six boats and a crooked wooden pier. the "
    "sailor who keeps the harbour light climbs the tower every evening, and every "
    "evening he stops halfway to look at the sea.",
    "the teacher walks to school along the river path. she knows every stone on the "
    "way, and she can tell the season by the colour of the water: green in spring, "
    "gold in summer, grey in autumn and almost black in winter.",
    "nobody in the village owns a clock that agrees with any other clock. the bell "
    "of the mill is the only one people trust. when it rings, the baker opens the "
    "shop, the smith lights the forge, and the day begins.",
    "a storm came in from the sea one night in late autumn. the wind tore the sails "
    "from two boats and knocked the weathervane off the mill. in the morning the "
    "whole village came out with ropes and hammers, and by evening everything was "
    "mended.",
    "the forest is dark and quiet, and the paths in it are older than the village. "
    "foxes live under the roots of the tallest trees, and owls sleep in the hollow "
    "branches. people who go in for firewood always come out before dusk.",
    "the doctor lives in the house with the blue door. she keeps honey in a jar on "
    "the windowsill, for coughs, and a basket of lemons on the table, for colds. "
    "most of her patients leave with a spoonful of one or the other.",
    "on the longest day of the year the village holds a fair in the meadow. there "
    "are races for the children, a contest for the best pie, and music until the "
    "stars come out. the carpenter builds the stage every year and takes it down the "
    "next morning.",
    "the weaver's cottage is full of colour. red and yellow threads hang from the "
    "beams, and a half-finished blanket waits on the loom. the weaver says that a "
    "good blanket takes a whole winter, and a very good one takes two.",
    "when the fog rolls in from the harbour, the whole village goes quiet. sounds "
    "carry strangely: a dog barking by the river seems to be right outside the "
    "window, and the bell of the mill seems to ring from far away.",
]

ASPECTS = [
    "acting",
    "plot",
    "script",
    "soundtrack",
    "pacing",
    "cinematography",
    "dialogue",
    "ending",
    "characters",
    "effects",
    "direction",
    "cast",
]
PLURAL_ASPECTS = {"characters", "effects"}
FILMS = ["film", "movie"]
POSITIVE = [
    "good",
    "great",
    "wonderful",
    "brilliant",
    "excellent",
    "superb",
    "charming",
    "clever",
    "moving",
    "gripping",
    "beautiful",
    "delightful",
    "engaging",
    "stunning",
]
NEGATIVE = [
    "bad",
    "dull",
    "boring",
    "awful",
    "terrible",
    "weak",
    "clumsy",
    "lifeless",
    "tedious",
    "bland",
    "messy",
    "forgettable",
    "predictable",
    "dreadful",
]
INTENSIFIERS = ["really", "quite", "absolutely", "very", "rather", "truly", "fairly", "somewhat"]
OPENERS = ["honestly, ", "to be fair, ", "in my opinion, ", "overall, ", "frankly, ", "i think "]
LOVE = {1: ["loved", "adored", "enjoyed"], 0: ["hated", "disliked", "regretted"]}
