import { describeLesson } from '../../src/lessons/lesson-suite.ts';

describeLesson(14);
