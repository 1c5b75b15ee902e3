-- Whether a user lets others see their email address (0: no, the default). Fronts show an
-- address only to its user, to admins, and to everyone when this is set; otherwise npm's
-- documents carry a no-reply form of it and Hex's answers none.
ALTER TABLE users ADD COLUMN show_email INTEGER NOT NULL DEFAULT 0 CHECK (show_email IN (0, 1));
