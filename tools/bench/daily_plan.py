"""The daily load's planned changes, shared by pipeline_bench.py (MariaDB SQL) and load_ab.py (Spark SQL): the same
text in both dialects. No other import, so a bench that loads another checkout's package can import it safely."""

CHANGED = "CRC32(member_id) % 1000 < 5"  # 0.5 % of the members: city changed on day 2
DELETED = "CRC32(member_id) % 1000 = 5"  # 0.1 %: gone on day 2
