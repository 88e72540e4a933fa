-- Hosts per kernel model (the LUO code version luotrace recognized; unknown when none could be told).
SELECT COALESCE(kernel_model, 'unknown') AS model, COUNT(*) AS host_count
FROM hosts
WHERE usable = TRUE
GROUP BY COALESCE(kernel_model, 'unknown')
ORDER BY model
