// Lesson 15's test: its server passes `chatlab verify --udp`, and its README matches the code and a
// real run through the UDP tap (test-support/lesson-suite.ts).
import { describeLesson } from '../../test-support/lesson-suite.ts';

describeLesson(15);
