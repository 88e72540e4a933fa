-- Per lock, the host with the longest single wait (ties: the first host by name).
WITH ranked AS (
  SELECT lock_key, host, wait_max_ns,
         ROW_NUMBER() OVER (PARTITION BY lock_key ORDER BY wait_max_ns DESC, host) AS place
  FROM lock_stats
  WHERE wait_max_ns IS NOT NULL
)
SELECT lock_key, host, wait_max_ns
FROM ranked
WHERE place = 1
ORDER BY lock_key
