-- The bare seat hold: the same shape as the booking service's hold (a booking row and its seat
-- rows in one transaction, a partial unique index deciding who gets a seat), nothing else.
CREATE TABLE IF NOT EXISTS hold_showtime (
    id integer PRIMARY KEY,
    prices jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS hold_booking (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL,
    showtime_id integer NOT NULL REFERENCES hold_showtime (id),
    status varchar(10) NOT NULL,
    total_amount numeric(10, 2) NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS hold_seat (
    id bigserial PRIMARY KEY,
    booking_id uuid NOT NULL REFERENCES hold_booking (id),
    showtime_id integer NOT NULL REFERENCES hold_showtime (id),
    label varchar(8) NOT NULL,
    is_live boolean NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS hold_seat_one_live ON hold_seat (showtime_id, label) WHERE is_live;
CREATE INDEX IF NOT EXISTS hold_seat_booking ON hold_seat (booking_id);
INSERT INTO hold_showtime (id, prices)
SELECT n, '{"standard": "12.50"}'::jsonb FROM generate_series(1, 10000) AS n
ON CONFLICT DO NOTHING;
