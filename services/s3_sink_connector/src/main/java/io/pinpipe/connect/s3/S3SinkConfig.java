package io.pinpipe.connect.s3;

import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.types.Password;

/** Settings of the S3 sink; names follow the Confluent S3 sink where an equivalent exists. */
public final class S3SinkConfig extends AbstractConfig {
  public static final String BUCKET = "s3.bucket.name";
  public static final String REGION = "s3.region";
  public static final String ENDPOINT = "store.url";
  public static final String PATH_STYLE = "s3.path.style.access.enabled";
  public static final String ACCESS_KEY = "aws.access.key.id";
  public static final String SECRET_KEY = "aws.secret.access.key";
  public static final String TOPICS_DIR = "topics.dir";
  public static final String FLUSH_SIZE = "flush.size";
  public static final String ROTATE_INTERVAL_MS = "rotate.schedule.interval.ms";
  public static final String OFFSET_WIDTH = "filename.offset.zero.pad.width";

  public static final ConfigDef DEF =
      new ConfigDef()
          .define(BUCKET, Type.STRING, Importance.HIGH, "Bucket the objects are written to.")
          .define(REGION, Type.STRING, "us-east-1", Importance.MEDIUM, "AWS region of the bucket.")
          .define(ENDPOINT, Type.STRING, "", Importance.MEDIUM,
              "S3 endpoint override (e.g. a local emulator); empty for AWS.")
          .define(PATH_STYLE, Type.BOOLEAN, false, Importance.LOW, "Use path-style bucket addressing.")
          .define(ACCESS_KEY, Type.STRING, "", Importance.MEDIUM,
              "Access key id; empty to use the default AWS credentials chain.")
          .define(SECRET_KEY, Type.PASSWORD, "", Importance.MEDIUM, "Secret access key.")
          .define(TOPICS_DIR, Type.STRING, "topics", Importance.MEDIUM, "Top-level prefix of objects.")
          .define(FLUSH_SIZE, Type.INT, 1000, ConfigDef.Range.atLeast(1), Importance.HIGH,
              "Records per object before it is written.")
          .define(ROTATE_INTERVAL_MS, Type.LONG, 10_000L, ConfigDef.Range.atLeast(1), Importance.HIGH,
              "Longest time records wait in an open object before it is written.")
          .define(OFFSET_WIDTH, Type.INT, 10, ConfigDef.Range.between(1, 20), Importance.LOW,
              "Zero-padded width of the start offset in object names.");

  public S3SinkConfig(Map<String, String> props) {
    super(DEF, props);
  }

  public String bucket() {
    return getString(BUCKET);
  }

  public String region() {
    return getString(REGION);
  }

  public String endpoint() {
    return getString(ENDPOINT);
  }

  public boolean pathStyle() {
    return getBoolean(PATH_STYLE);
  }

  public String accessKey() {
    return getString(ACCESS_KEY);
  }

  public String secretKey() {
    Password p = getPassword(SECRET_KEY);
    return p == null ? "" : p.value();
  }

  public String topicsDir() {
    return getString(TOPICS_DIR);
  }

  public int flushSize() {
    return getInt(FLUSH_SIZE);
  }

  public long rotateIntervalMs() {
    return getLong(ROTATE_INTERVAL_MS);
  }

  public int offsetWidth() {
    return getInt(OFFSET_WIDTH);
  }
}
