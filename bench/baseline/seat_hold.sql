-- pgbench script and the baseline view's SQL (the view substitutes :showtime and :row).
-- Two seats per hold, labels within the service's varchar(8); 10^4 showtimes x 10^7 rows, so
-- conflicts are negligible and the partial unique index is checked as in the service.
\set showtime random(1, 10000)
\set row random(1, 9999999)
BEGIN;
SELECT id, prices FROM hold_showtime WHERE id = :showtime;
WITH booking AS (INSERT INTO hold_booking (id, user_id, showtime_id, status, total_amount, created_at) VALUES (gen_random_uuid(), gen_random_uuid(), :showtime, 'pending', 25.00, now()) RETURNING id, showtime_id) INSERT INTO hold_seat (booking_id, showtime_id, label, is_live) SELECT booking.id, booking.showtime_id, seat.label, true FROM booking, (VALUES (:row || 'a'), (:row || 'b')) AS seat (label);
COMMIT;
