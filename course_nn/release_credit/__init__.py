"""The for-credit student release: a bundle whose code holds no answer (docs/releases.md).

Book: none (instructor tooling).

``make student-release MODE=for-credit`` writes ``dist/student-for-credit/``. Modules,
in the order the build uses them:

* :mod:`~course_nn.release_credit.graded`: which ``course_nn`` functions each released
  exercise grades (from the check registry and ``solutions/``);
* :mod:`~course_nn.release_credit.record`: the public cases, their expected outputs and
  the outputs of the typical mistakes the hints name, computed from the live registry;
* :mod:`~course_nn.release_credit.stored` (ships in the bundle): rebuilds each check
  from that stored data (``check()`` and ``course-nn check`` work unchanged);
* :mod:`~course_nn.release_credit.on_submission` (ships in the bundle): judges that need
  a function the bundle leaves out (``fit_temperature``, the capstone's network checks);
* :mod:`~course_nn.release_credit.public_grade` (ships in the bundle): the public checks
  of a student's repository, for the autograde workflow in for-credit mode;
* :mod:`~course_nn.release_credit.stubs`: graded functions replaced by stubs that name
  the exercise asking for them; generated check modules;
* :mod:`~course_nn.release_credit.leaks`: the semantic leak test (normalised ASTs);
* :mod:`~course_nn.release_credit.behaviour`: the behavioural leak search (a function
  that passes a check renamed or behind one line of glue), run by the tests;
* :mod:`~course_nn.release_credit.bundle`: writes the bundle and refuses a leaking one.
"""
