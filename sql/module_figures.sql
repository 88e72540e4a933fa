-- Per module: hosts that had it, module_get/module_put, LUO pins taken and released, pins open at the end and leaked, over all hosts and boots.
SELECT module, COUNT(DISTINCT host) AS host_count, SUM(gets) AS get_count, SUM(puts) AS put_count,
       SUM(luo_gets) AS luo_get_count, SUM(luo_puts) AS luo_put_count, SUM(open_luo_pins) AS open_pins, SUM(leaked_pins) AS leaked
FROM module_refs
GROUP BY module
ORDER BY module
