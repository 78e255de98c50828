package io.pinpipe.connect.s3;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.OptionalLong;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Object;

/** The few S3 calls the sink needs: write an object, and find where a partition's objects end. */
final class ObjectStore implements AutoCloseable {
  static final String END_OFFSET_META = "end-offset";

  private final S3Client s3;
  private final String bucket;

  ObjectStore(S3SinkConfig config) {
    S3ClientBuilder builder =
        S3Client.builder()
            .region(Region.of(config.region()))
            .httpClientBuilder(UrlConnectionHttpClient.builder())
            .forcePathStyle(config.pathStyle());
    if (!config.endpoint().isEmpty()) {
      builder.endpointOverride(URI.create(config.endpoint()));
    }
    if (!config.accessKey().isEmpty()) {
      builder.credentialsProvider(
          StaticCredentialsProvider.create(
              AwsBasicCredentials.create(config.accessKey(), config.secretKey())));
    } else {
      builder.credentialsProvider(DefaultCredentialsProvider.builder().build());
    }
    this.s3 = builder.build();
    this.bucket = config.bucket();
  }

  void put(String key, byte[] body, long endOffset) {
    s3.putObject(
        PutObjectRequest.builder()
            .bucket(bucket)
            .key(key)
            .contentType("application/json")
            .metadata(Map.of(END_OFFSET_META, Long.toString(endOffset)))
            .build(),
        RequestBody.fromBytes(body));
  }

  /**
   * The offset after the last record landed under {@code prefix}, if any object is there. Object
   * names carry the start offset; the end comes from the object's metadata, or from counting its
   * lines when the metadata was lost (e.g. an object restored from a plain file copy).
   */
  OptionalLong nextOffsetAfter(String prefix, OffsetParser parser) {
    String lastKey = null;
    long lastStart = -1;
    String token = null;
    do {
      ListObjectsV2Response page =
          s3.listObjectsV2(
              ListObjectsV2Request.builder().bucket(bucket).prefix(prefix).continuationToken(token).build());
      for (S3Object o : page.contents()) {
        long start = parser.startOffset(o.key());
        if (start > lastStart) {
          lastStart = start;
          lastKey = o.key();
        }
      }
      token = page.isTruncated() ? page.nextContinuationToken() : null;
    } while (token != null);
    if (lastKey == null) {
      return OptionalLong.empty();
    }
    var object = s3.getObjectAsBytes(GetObjectRequest.builder().bucket(bucket).key(lastKey).build());
    String end = object.response().metadata().get(END_OFFSET_META);
    if (end != null) {
      return OptionalLong.of(Long.parseLong(end) + 1);
    }
    String text = object.asString(StandardCharsets.UTF_8);
    long lines = text.chars().filter(c -> c == '\n').count();
    return OptionalLong.of(lastStart + lines);
  }

  @Override
  public void close() {
    s3.close();
  }

  interface OffsetParser {
    /** Start offset encoded in an object key, or -1 when the key is not one of ours. */
    long startOffset(String key);
  }
}
