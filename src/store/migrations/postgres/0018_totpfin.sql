-- A client's own second-factor rule (issue 18, README "Second factor (TOTP)"): the client JSON's
-- `secondFactor`. NULL (or 'optional'): only users who have a second factor need one here;
-- 'required': every user needs one (users without one enrol during sign-in), as for a client
-- listed in code.second_factor_clients.
ALTER TABLE clients ADD COLUMN second_factor TEXT;
