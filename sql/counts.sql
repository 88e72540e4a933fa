-- Named counts summed over hosts: sessions by state and by side, incomplete lock waits and holds by reason.
SELECT scope, lock_key, name, SUM(count) AS total
FROM counts
GROUP BY scope, lock_key, name
ORDER BY scope, lock_key, name
