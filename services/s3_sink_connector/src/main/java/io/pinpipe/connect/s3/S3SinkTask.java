package io.pinpipe.connect.s3;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Buffers records per partition and writes them as one object per contiguous offset range.
 *
 * <p>Exactly-once landing: the object store, not the consumer group, is the source of truth. When
 * a partition is assigned, the task looks up where the partition's last object ends and seeks
 * there (to the partition's start when it has no object), so records already landed are never
 * written again and records missing from the bucket are landed again, whatever crashed in
 * between; a record re-delivered after a failed write is skipped by offset. Consumer offsets are
 * committed only for records that are in an object.
 */
public final class S3SinkTask extends SinkTask {
  private static final Logger LOG = LoggerFactory.getLogger(S3SinkTask.class);

  private S3SinkConfig config;
  private ObjectStore store;
  private final Map<TopicPartition, PartitionBuffer> buffers = new HashMap<>();

  @Override
  public String version() {
    return "1.0.0";
  }

  @Override
  public void start(Map<String, String> props) {
    config = new S3SinkConfig(props);
    store = new ObjectStore(config);
  }

  @Override
  public void open(Collection<TopicPartition> partitions) {
    for (TopicPartition tp : partitions) {
      OptionalLong landed = store.nextOffsetAfter(prefix(tp), key -> startOffsetOf(tp, key));
      // No object yet: land the partition from its start (an offset before the log start is
      // reset to the earliest record by the consumer).
      long next = landed.orElse(0L);
      buffers.put(tp, new PartitionBuffer(next));
      context.offset(tp, next);
      LOG.info("{}: landed objects end before offset {}; resuming there", tp, next);
    }
  }

  @Override
  public void close(Collection<TopicPartition> partitions) {
    for (TopicPartition tp : partitions) {
      buffers.remove(tp); // unwritten records are delivered again to the next owner
    }
  }

  @Override
  public void put(Collection<SinkRecord> records) {
    for (SinkRecord record : records) {
      TopicPartition tp = new TopicPartition(record.topic(), record.kafkaPartition());
      PartitionBuffer buffer = buffers.computeIfAbsent(tp, k -> new PartitionBuffer(-1));
      if (buffer.accepts(record.kafkaOffset())) {
        buffer.add(record);
        if (buffer.count >= config.flushSize()) {
          write(tp, buffer);
        }
      }
    }
    long now = System.currentTimeMillis();
    for (Map.Entry<TopicPartition, PartitionBuffer> e : buffers.entrySet()) {
      PartitionBuffer buffer = e.getValue();
      if (buffer.count > 0 && now - buffer.openedAtMs >= config.rotateIntervalMs()) {
        write(e.getKey(), buffer);
      }
    }
  }

  @Override
  public Map<TopicPartition, OffsetAndMetadata> preCommit(
      Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
    Map<TopicPartition, OffsetAndMetadata> landed = new HashMap<>();
    for (Map.Entry<TopicPartition, PartitionBuffer> e : buffers.entrySet()) {
      if (e.getValue().landedUpTo >= 0) {
        landed.put(e.getKey(), new OffsetAndMetadata(e.getValue().landedUpTo));
      }
    }
    return landed;
  }

  @Override
  public void stop() {
    if (store != null) {
      store.close();
    }
  }

  private void write(TopicPartition tp, PartitionBuffer buffer) {
    String key = prefix(tp) + objectName(tp, buffer.startOffset);
    try {
      store.put(key, buffer.bytes.toByteArray(), buffer.lastOffset);
    } catch (RuntimeException e) {
      // Keep the buffer: the framework re-delivers the batch, duplicates are skipped by offset.
      throw new RetriableException("writing " + key + " failed: " + e.getMessage(), e);
    }
    LOG.info("{}: wrote {} records to {}", tp, buffer.count, key);
    buffer.reset();
  }

  private String prefix(TopicPartition tp) {
    return config.topicsDir() + "/" + tp.topic() + "/partition=" + tp.partition() + "/";
  }

  private String objectName(TopicPartition tp, long startOffset) {
    String offset = String.format("%0" + config.offsetWidth() + "d", startOffset);
    return tp.topic() + "+" + tp.partition() + "+" + offset + ".json";
  }

  private long startOffsetOf(TopicPartition tp, String key) {
    String name = key.substring(key.lastIndexOf('/') + 1);
    String head = tp.topic() + "+" + tp.partition() + "+";
    if (!name.startsWith(head) || !name.endsWith(".json")) {
      return -1;
    }
    try {
      return Long.parseLong(name.substring(head.length(), name.length() - ".json".length()));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** Records of one partition not yet in an object, and the offset every later record must follow. */
  private static final class PartitionBuffer {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    long startOffset = -1;
    long lastOffset = -1;
    long nextOffset;
    long landedUpTo;
    int count;
    long openedAtMs;

    PartitionBuffer(long nextOffset) {
      this.nextOffset = nextOffset;
      this.landedUpTo = nextOffset;
    }

    boolean accepts(long offset) {
      return nextOffset < 0 || offset >= nextOffset;
    }

    void add(SinkRecord record) {
      if (count == 0) {
        startOffset = record.kafkaOffset();
        openedAtMs = System.currentTimeMillis();
      }
      Object value = record.value();
      if (value != null) {
        byte[] data =
            value instanceof byte[] b ? b : value.toString().getBytes(StandardCharsets.UTF_8);
        bytes.writeBytes(data);
        bytes.write('\n');
      }
      lastOffset = record.kafkaOffset();
      nextOffset = lastOffset + 1;
      count++;
    }

    void reset() {
      landedUpTo = lastOffset + 1;
      bytes.reset();
      count = 0;
      startOffset = -1;
    }
  }
}
