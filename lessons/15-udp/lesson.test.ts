// Lesson 15's test: its server passes `chatlab verify --udp`, and its README matches the code and a
// real run through the UDP tap (src/lessons/lesson-suite.ts).
import { describeLesson } from '../../src/lessons/lesson-suite.ts';

describeLesson(15);
