// Lesson 07's test: its code passes the verifier through step 7, and its README matches the code
// and a real run. The shared checks are in test-support/lesson-suite.ts.
import { describeLesson } from '../../test-support/lesson-suite.ts';

describeLesson(7);
