-- First run and the admin console (issue 17).
--
-- users.password_change_required: the password was set by someone else (the first-run `admin`
-- user, `portcullis user create --admin`); the user must choose a new one at the next browser
-- sign-in before anything else, and every other sign-in path refuses the password until then.
-- Setting a new password clears it.
ALTER TABLE users ADD COLUMN password_change_required INTEGER NOT NULL DEFAULT 0
    CHECK (password_change_required IN (0, 1));
