-- Per module, the hosts that leaked pins, saw refcount mismatches or module_put without a module_get.
SELECT module, host,
       SUM(leaked_pins) AS leaked, SUM(refcnt_mismatches) AS mismatches, SUM(puts_without_get) AS unmatched_puts
FROM module_refs
GROUP BY module, host
HAVING SUM(leaked_pins) > 0 OR SUM(refcnt_mismatches) > 0 OR SUM(puts_without_get) > 0
ORDER BY module, host
