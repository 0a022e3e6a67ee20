import type { CatalogueInput } from '@aip/contracts';

const CITIES = [
  'Amsterdam', 'Athens', 'Bangkok', 'Barcelona', 'Beijing', 'Berlin', 'Bogotá', 'Boston', 'Budapest', 'Buenos Aires',
  'Cairo', 'Cape Town', 'Chengdu', 'Chicago', 'Copenhagen', 'Delhi', 'Dubai', 'Dublin', 'Edinburgh', 'Florence',
  'Guangzhou', 'Hangzhou', 'Hanoi', 'Helsinki', 'Ho Chi Minh City', 'Hong Kong', 'Istanbul', 'Jakarta', 'Kyoto', 'Lisbon',
  'London', 'Los Angeles', 'Madrid', 'Melbourne', 'Mexico City', 'Milan', 'Montreal', 'Moscow', 'Mumbai', 'Munich',
  'Nairobi', 'New York', 'Osaka', 'Oslo', 'Paris', 'Prague', 'Rio de Janeiro', 'Rome', 'San Francisco', 'Seoul',
  'Shanghai', 'Shenzhen', 'Singapore', 'Stockholm', 'Sydney', 'Taipei', 'Tokyo', 'Toronto', 'Vancouver', 'Venice',
  'Vienna', "Xi'an", 'Zurich',
];

/** A city: the gazetteer first, then a capitalised name after "in", "to", "visit", "around" or "of". */
const city = {
  name: 'city',
  gazetteer: CITIES,
  patterns: ['\\b(?:in|to|visit|visiting|around|of)\\s+(\\p{Lu}[\\p{L}\'’-]+(?:\\s+\\p{Lu}[\\p{L}\'’-]+){0,2})'],
  required: true,
};

/**
 * The catalogue the scheduler starts with when Redis holds no `intents` document. Operators
 * replace it at run time (`PUT /admin/config/intents`); a copy for editing is in
 * config/intents/default.json (a unit test keeps the two equal).
 */
export const DEFAULT_CATALOGUE = {
  threshold: 0.5,
  margin: 0.05,
  userTurns: 3,
  defaults: { timezone: 'UTC', quietHours: { start: '22:00', end: '08:00' }, dailyCap: 3, userGraceMs: 10_000, noticeCooldownMs: 3_600_000 },
  intents: [
    {
      id: 'city_attractions',
      description: 'The user asks what to see or do in a city: offer hotel suggestions there.',
      examples: [
        'what are the sights in Beijing?',
        'what should I see in Paris',
        'top tourist attractions in Rome',
        'things to do in Tokyo',
        'must-see places when visiting London',
        'which museums and landmarks are worth visiting in Berlin',
        'where should I go sightseeing in Vienna',
        'best places to visit in Istanbul',
      ],
      slots: [city],
      prompt: 'Planning a trip to {city}? I can suggest hotels in {city}.',
      delayMs: 0,
      cooldownMs: 24 * 3_600_000,
    },
    {
      id: 'travel_transport',
      description: 'The user asks how to get to or travel to a city: offer to compare flights and trains.',
      examples: [
        'how do I get to Shanghai from Beijing',
        'flights to New York next week',
        'is there a train to Munich',
        'cheapest way to travel to Barcelona',
        'how can I fly from Berlin to Rome',
        'which bus goes from the airport to Madrid',
      ],
      slots: [city],
      prompt: 'Travelling to {city}? I can compare flights and trains to {city} for your dates.',
      delayMs: 0,
      cooldownMs: 24 * 3_600_000,
    },
    {
      id: 'recipe_cooking',
      description: 'The user asks how to cook something: offer a shopping list.',
      examples: [
        'how do I cook pasta carbonara',
        'recipe for chocolate cake',
        'how long should I roast a chicken',
        'what can I make for dinner with rice and eggs',
        'how do I bake bread at home',
        'give me a quick vegetarian recipe',
        'how do you make pancakes',
        'what should I cook tonight',
      ],
      prompt: 'Would you like a shopping list for that recipe?',
      delayMs: 0,
      cooldownMs: 12 * 3_600_000,
    },
    {
      id: 'troubleshooting',
      description: 'The user reports a problem with a device or app: check in later whether the fix worked.',
      examples: [
        'my laptop will not turn on',
        'the app keeps crashing when I open it',
        'my wifi connection keeps dropping',
        'I get an error when I try to log in',
        'my phone battery drains very fast',
        'the printer is not working',
        'my computer has become really slow',
        'how do I fix this bug',
      ],
      prompt: 'Did the fix work? If not, I can walk you through a few more steps.',
      delayMs: 5 * 60_000,
      cooldownMs: 12 * 3_600_000,
    },
    {
      id: 'learning_topic',
      description: 'The user is learning a subject: offer a short quiz.',
      examples: [
        'explain how neural networks work',
        'teach me the basics of photosynthesis',
        'what is the difference between TCP and UDP',
        'help me understand compound interest',
        'can you explain quantum physics simply',
        'what is a derivative in maths',
        'I want to learn Spanish grammar',
        'how does the stock market work',
      ],
      prompt: 'Would a short quiz help this stick? I can make one for you.',
      delayMs: 60_000,
      cooldownMs: 24 * 3_600_000,
    },
    {
      id: 'unanswered_question',
      description: 'The assistant asked a question and the user went quiet: check in once.',
      trigger: 'assistant_question',
      prompt: 'Still there? Happy to pick up where we left off whenever you are ready.',
      delayMs: 10 * 60_000,
      cooldownMs: 24 * 3_600_000,
      recordInterest: false,
    },
  ],
} satisfies CatalogueInput;
