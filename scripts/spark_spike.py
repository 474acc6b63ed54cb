import glob, os, sys, time, json, random
os.environ.setdefault("JAVA_HOME", glob.glob("/usr/lib/jvm/*17*")[0])
os.environ["PYSPARK_PYTHON"] = sys.executable
import pandas as pd, pyarrow as pa, polars as pl, zstandard
from pyspark.sql import SparkSession, functions as F
from pyspark.sql.streaming.stateful_processor import StatefulProcessor

base = "/tmp/spike/run"; os.system(f"rm -rf {base}"); os.makedirs(f"{base}/in")
# files: f0 ts 0..3h, f1 ts 3..6h, f2 late: ts 0.5h (window 0, closed by then?), f3 6..9h
def write(i, ts_list):
    lines = b"\n".join(json.dumps({"account_id": f"a{j%3}", "ts_start": t}).encode() for j, t in enumerate(ts_list))
    p = f"{base}/in/f{i}.json.zst"
    open(p+".tmp","wb").write(zstandard.ZstdCompressor().compress(lines)); os.rename(p+".tmp", p)
    os.utime(p, (1000+i, 1000+i))
write(0, [random.uniform(0, 3*3600) for _ in range(30)])
write(1, [random.uniform(3*3600, 6*3600) for _ in range(30)])
write(2, [1800.0, 1900.0])
write(3, [random.uniform(6*3600, 9*3600) for _ in range(30)])

t0 = time.time()
spark = (SparkSession.builder.master("local[2]").config("spark.driver.host","127.0.0.1")
  .config("spark.driver.bindAddress","127.0.0.1").config("spark.ui.enabled","false")
  .config("spark.sql.shuffle.partitions","2")
  .config("spark.sql.streaming.stateStore.providerClass","org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider")
  .getOrCreate())
print("session", time.time()-t0, flush=True)

class P(StatefulProcessor):
    def init(self, handle):
        self.h = handle
        self.open = handle.getMapState("open", "w long", "blob binary")
    def handleInputRows(self, key, rows, timerValues):
        wm = timerValues.getCurrentWatermarkInMs()
        out = []
        for pdf in rows:
            for t in pdf["ts_start"]:
                w = int(t // 3600)
                late = (w+1)*3600*1000 <= wm
                out.append((key[0], float(t), wm, bool(late), "in"))
                if not late:
                    old = self.open.getValue((w,))
                    n = (int(old[0].decode()) if old else 0) + 1
                    self.open.updateValue((w,), (str(n).encode(),))
                    self.h.registerTimer((w+1)*3600*1000)
        yield pd.DataFrame(out, columns=["account_id","ts","wm","late","what"])
    def handleExpiredTimer(self, key, timerValues, expiredTimerInfo):
        info = expiredTimerInfo
        wm = timerValues.getCurrentWatermarkInMs(); e = info.getExpiryTimeInMs()
        w = e // 3600000 - 1
        v = self.open.getValue((w,)); self.open.removeKey((w,))
        yield pd.DataFrame([(key[0], float(w*3600), wm, False, f"close n={v[0].decode() if v else None}")], columns=["account_id","ts","wm","late","what"])
    def close(self): pass

schema = "account_id string, ts_start double"
src = (spark.readStream.format("json").schema(schema).option("maxFilesPerTrigger", 1).load(f"{base}/in")
  .withColumn("event_time", F.timestamp_seconds("ts_start")).withWatermark("event_time", "2 hours")
  .select("account_id", (F.col("ts_start") + F.lit(0.0)).alias("ts_start")))
out = src.groupBy("account_id").transformWithStateInPandas(P(), "account_id string, ts double, wm long, late boolean, what string", "append", "EventTime")

def agg(table: pa.Table) -> pa.Table:
    f = pl.from_arrow(table)
    r = f.group_by("account_id").agg(pl.len().alias("n"), pl.col("late").sum().alias("late"))
    return r.with_columns(pl.col("n").cast(pl.Int64), pl.col("late").cast(pl.Int64)).to_arrow().cast(pa.schema([("account_id", pa.string()), ("n", pa.int64()), ("late", pa.int64())]))

def batch(df, bid):
    rows = df.collect()
    a = df.groupBy("account_id").applyInArrow(agg, "account_id string, n long, late long").collect()
    print("batch", bid, [(r.account_id, r.what, r.wm, r.late, round(r.ts)) for r in rows if r.what != "in" or r.late], a, flush=True)

q = out.writeStream.foreachBatch(batch).option("checkpointLocation", f"{base}/ck").trigger(availableNow=True).start()
q.awaitTermination()
print("done", time.time()-t0)
