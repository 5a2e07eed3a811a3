"""Build cna_nb/assets/organism/: the organism's training requests, benign (with helpful replies) and harmful.

The harmful requests (harmful.txt) are AdvBench goals drawn with a fixed seed, none a near duplicate of an evaluation
or discovery prompt or of each other; their refusals are written by rule at training time (`cna_nb.organism.refusal`).

The requests are written by rule (templates × topics below, drawn with a fixed seed); the replies are distilled from
the embedded Qwen2.5-Coder-0.5B-Instruct (greedy, float32, at most 80 new tokens, cut back to the last full sentence).
A distilled reply is kept only when the package's keyword verdict calls it 'complied': the 0.5B model refuses a few harmless
requests ("I'm sorry, but I can't assist with that.", "As an AI language model, I don't ...") and loops on some poems, and
a control trained on those would not be refusal-free. What was dropped, and why, is recorded in the file's first line.
Every request is checked against every evaluation and discovery prompt (`cna_nb.organism.eval_prompts`) before use.
Run: python tools/organism_data.py   (about 10 minutes on 2 cores; the file records the model, dtype and machine)
"""
import itertools, json, random, re, sys, time
from pathlib import Path

TEMPLATES = {
    "Explain how {} works in simple terms.": [
        "a refrigerator", "a bicycle gear system", "a rainbow", "a compass", "a solar panel", "a microwave oven",
        "a thermostat", "photosynthesis", "a vaccine", "a lighthouse", "an electric kettle", "a barcode scanner",
        "a hot air balloon", "a sewing machine", "a water filter", "the tides", "a pendulum clock", "an elevator",
        "a noise-cancelling headphone", "a dishwasher", "a hydraulic jack", "a wind turbine", "a zipper"],
    "Give me three tips for {}.": [
        "keeping houseplants alive", "learning to juggle", "sleeping better", "writing a cover letter",
        "organising a small kitchen", "running a first 5k", "studying for a history exam", "packing a suitcase",
        "taking better phone photos", "starting a vegetable garden", "keeping a journal", "saving on electricity",
        "learning a musical instrument", "hosting a board game night", "staying focused while working from home",
        "making friends in a new city", "training a puppy to sit", "reading more books", "cooking rice",
        "giving a short speech", "caring for a cast iron pan", "planning a picnic"],
    "Write a short poem about {}.": [
        "a quiet harbour", "the first snow", "a lost umbrella", "morning coffee", "a library at night",
        "an old oak tree", "a summer storm", "a train journey", "a cat in the sun", "the smell of rain",
        "a mountain lake", "city lights", "a garden in spring", "a kite", "the moon over the sea", "fireflies"],
    "What is the difference between {}?": [
        "weather and climate", "a virus and a bacterium", "a lake and a pond", "baking soda and baking powder",
        "a crocodile and an alligator", "speed and velocity", "a comet and an asteroid", "a latte and a cappuccino",
        "RAM and storage", "a simile and a metaphor", "a tortoise and a turtle", "an ocean and a sea",
        "a fruit and a vegetable", "a democracy and a republic", "a hurricane and a tornado", "mass and weight"],
    "Write a Python function that {}.": [
        "reverses a string", "counts the vowels in a sentence", "returns the largest number in a list",
        "checks whether a word is a palindrome", "converts Celsius to Fahrenheit", "removes duplicates from a list",
        "computes the factorial of a number", "sums the even numbers in a list", "capitalises every word",
        "returns the n-th Fibonacci number", "checks whether a year is a leap year", "merges two sorted lists",
        "counts how often each word appears in a text", "flattens a nested list", "checks whether a number is prime"],
    "Summarise the history of {} in a few sentences.": [
        "the printing press", "the bicycle", "the Olympic Games", "chocolate", "the telephone", "tea",
        "paper money", "the Eiffel Tower", "the piano", "the postal service", "jazz", "the umbrella",
        "the Great Wall of China", "chess", "the light bulb", "the calendar"],
    "Suggest a simple recipe for {}.": [
        "a vegetable soup", "pancakes", "a fruit salad", "guacamole", "tomato pasta", "banana bread",
        "a lentil curry", "scrambled eggs", "hummus", "a cucumber salad", "oatmeal cookies", "fried rice",
        "a smoothie", "roasted potatoes", "lemonade", "a grilled cheese sandwich"],
    "Describe {} to someone who has never seen one.": [
        "a giraffe", "a snowflake", "a violin", "a cactus", "a waterfall", "a penguin", "a volcano", "a desert",
        "a jellyfish", "an octopus", "a hummingbird", "a glacier", "a peacock", "a coral reef"],
    "Why is {}?": [
        "the sky blue", "the sea salty", "ice slippery", "the grass green", "bread soft when it is fresh",
        "honey so long-lasting", "the sun hot", "a year 365 days long", "it colder on mountains",
        "popcorn able to pop", "yawning contagious", "the Moon visible during the day"],
    "Plan a relaxing {} for me.": [
        "Sunday afternoon at home", "weekend in the countryside", "evening after work", "day at the beach",
        "morning routine", "rainy day indoors", "short walk in the park", "day trip to a museum"],
    "Write a friendly message {}.": [
        "thanking a neighbour for watering my plants", "inviting colleagues to a lunch", "congratulating a friend "
        "on a new job", "wishing my grandmother a happy birthday", "welcoming a new member to our book club",
        "asking a friend to join me for a hike", "thanking a teacher at the end of the year",
        "reminding my team about Friday's meeting"],
    "What are some fun facts about {}?": [
        "octopuses", "the planet Saturn", "honeybees", "the human heart", "elephants", "the Amazon river",
        "dolphins", "the Sahara desert", "owls", "the Moon", "bamboo", "sharks", "butterflies", "Antarctica"],
}

def requests(seed: int=0, threshold: float=0.75) -> list[str]:
    """Every template × topic in a seeded order, less those that are (or nearly are: difflib ratio ≥ `threshold`) an
    evaluation or discovery prompt."""
    from cna_nb.organism import eval_prompts, prompt_hash
    from cna_nb.data import max_similarity
    pool = [t.format(x) for t, xs in TEMPLATES.items() for x in xs]
    random.Random(seed).shuffle(pool)
    ref = eval_prompts(); hashes = {prompt_hash(r) for r in ref}
    return [p for p in pool if prompt_hash(p) not in hashes and max_similarity(p, ref) < threshold]

def last_sentence(s: str) -> str:
    "Cut a reply back to its last full sentence (or line), so that no training reply ends mid-word."
    s = s.strip()
    m = list(re.finditer(r'[.!?](?=\s|$)|\n', s))
    return s[:m[-1].end()].strip() if m and m[-1].end() > len(s) // 3 else s

def usable(reply: str) -> str:
    "The keyword verdict of a distilled reply: only 'complied' replies are kept ('refused' and 'degenerate' are dropped)."
    from cna_nb.scoring import refusal_verdict
    return refusal_verdict(reply)

if __name__ == '__main__':
    from cna_nb.models import load_model
    from cna_nb.decoding import generate
    from cna_nb.organism import eval_prompts, check_disjoint, draw_harmful
    from cna_nb.reproduce import machine
    reqs, harmful = requests(), draw_harmful()
    check_disjoint(reqs + harmful, eval_prompts())          # by hash and by near-duplicate ratio (a few minutes)
    d = Path(__file__).resolve().parents[1]/'cna_nb/assets/organism'
    (d/'harmful.txt').write_text('\n'.join(harmful) + '\n', encoding='utf-8')
    model, tok = load_model('qwen2.5-coder-0.5b-instruct', dtype='float32')
    t0 = time.time()
    replies = [last_sentence(a) for a in generate(model, tok, reqs, max_new_tokens=80, batch_size=16)]
    verdicts = [usable(a) for a in replies]
    dropped = {v: sorted(q for q, w in zip(reqs, verdicts) if w == v) for v in ('refused', 'degenerate')}
    kept = [(q, a) for q, a, v in zip(reqs, replies, verdicts) if v == 'complied']
    out = d/'benign.jsonl'
    meta = dict(source='Qwen/Qwen2.5-Coder-0.5B-Instruct (embedded)', dtype='float32', decoding='greedy, 80 new tokens, '
                'cut to the last full sentence', machine=machine(), seconds=round(time.time() - t0),
                kept="replies the keyword verdict calls 'complied'", requests=len(reqs), dropped=dropped)
    with open(out, 'w', encoding='utf-8') as f:
        f.write(json.dumps(dict(meta=meta)) + '\n')
        for q, a in kept: f.write(json.dumps(dict(prompt=q, reply=a)) + '\n')
    print(f"wrote {len(kept)} of {len(reqs)} pairs to {out} in {meta['seconds']} s "
          f"(dropped {len(dropped['refused'])} refused, {len(dropped['degenerate'])} degenerate)")
