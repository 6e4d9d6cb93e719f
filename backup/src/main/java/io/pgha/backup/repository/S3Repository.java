package io.pgha.backup.repository;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A repository in an S3 bucket (AWS or any S3-compatible store). Objects are in ObjectFormat, the
 * same bytes a FilesystemRepository file holds, so object and checksum are one unit and need no
 * object metadata (which a multipart upload would have to name before its bytes are known).
 *
 * <p>Create-only: a put first asks whether the key exists (so a repeated push of a base backup or
 * a segment uploads nothing), then writes with {@code If-None-Match: *}, which S3 and servers that
 * implement conditional writes refuse when the key appeared meanwhile. A server that ignores the
 * header (s3proxy 2.6.0 does, seen in this project's tests) leaves a window between the check and
 * the write in which two writers of the same key both store; the later object wins. That is acceptable here: WAL is immutable, so the two
 * writers of one segment name (a retried archive_command, a standby with archive_mode=always)
 * write the same content, and base backup names carry their start time and one backup runs per
 * cluster at a time. What a conflicting push would do (different content under a stored name) is
 * caught by the check, which sees the first object in every case but that race.
 *
 * <p>Large objects (base backups) stream through a multipart upload in parts of {@link #PART_SIZE}:
 * part 1, which starts with the header, is uploaded last, once the checksum is known, so memory
 * holds at most two parts whatever the object's size.
 */
public final class S3Repository implements Repository {
    /** S3 wants every part but the last to be at least 5 MiB; 8 MiB keeps a put's memory at 16 MiB. */
    public static final int PART_SIZE = 8 * 1024 * 1024;
    private static final int FIRST_PART = 1;
    private static final int HTTP_PRECONDITION_FAILED = 412;
    private static final int HTTP_CONFLICT = 409;
    private static final String ANY_ETAG = "*";
    private static final String PROBE = ".pgha-write-probe";

    private final S3Client s3;
    private final String bucket;

    public S3Repository(S3Client s3, String bucket) {
        this.s3 = s3;
        this.bucket = bucket;
    }

    /**
     * A client for {@code endpoint} (empty: AWS itself), with path-style addressing for other
     * servers (their buckets are rarely DNS names), and the SDK's own CRC checksums only where
     * S3 requires them: not every S3-compatible server knows them, and ObjectFormat's SHA-256
     * already covers every byte end to end.
     *
     * @param credentials empty: the SDK's default chain (environment, profile, instance role)
     */
    public static S3Client client(Optional<URI> endpoint, String region, Optional<AwsBasicCredentials> credentials) {
        S3ClientBuilder builder = S3Client.builder()
                .region(Region.of(region))
                .httpClientBuilder(UrlConnectionHttpClient.builder())
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .credentialsProvider(credentials.isPresent()
                        ? StaticCredentialsProvider.create(credentials.get())
                        : DefaultCredentialsProvider.builder().build());
        endpoint.ifPresent(uri -> builder.endpointOverride(uri).forcePathStyle(true));
        return builder.build();
    }

    public String bucket() {
        return bucket;
    }

    @Override
    public long putIfAbsent(String key, InputStream in) throws IOException {
        checkKey(key);
        try {
            if (exists(key)) {
                return -1;
            }
            MessageDigest digest = Checksums.newSha256();
            byte[] first = in.readNBytes(PART_SIZE);
            digest.update(first);
            if (first.length < PART_SIZE) {
                return putSmall(key, first, digest) ? first.length : -1;
            }
            return putMultipart(key, first, digest, in);
        } catch (SdkException e) {
            throw failure("store", key, e);
        }
    }

    private boolean putSmall(String key, byte[] payload, MessageDigest digest) {
        try {
            s3.putObject(b -> b.bucket(bucket).key(key).ifNoneMatch(ANY_ETAG),
                    RequestBody.fromBytes(withHeader(digest, payload)));
            return true;
        } catch (S3Exception e) {
            if (lostTheRace(e)) {
                return false;
            }
            throw e;
        }
    }

    private long putMultipart(String key, byte[] first, MessageDigest digest, InputStream in) throws IOException {
        String uploadId = s3.createMultipartUpload(b -> b.bucket(bucket).key(key)).uploadId();
        boolean completed = false;
        try {
            List<CompletedPart> parts = new ArrayList<>();
            long size = first.length;
            int partNumber = FIRST_PART;
            for (byte[] part; (part = in.readNBytes(PART_SIZE)).length > 0; ) {
                digest.update(part);
                size += part.length;
                parts.add(uploadPart(key, uploadId, ++partNumber, part));
            }
            parts.add(0, uploadPart(key, uploadId, FIRST_PART, withHeader(digest, first)));
            try {
                s3.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId).ifNoneMatch(ANY_ETAG)
                        .multipartUpload(u -> u.parts(parts)));
            } catch (S3Exception e) {
                if (lostTheRace(e)) {
                    return -1;
                }
                throw e;
            }
            completed = true;
            return size;
        } finally {
            if (!completed) {
                abort(key, uploadId);
            }
        }
    }

    private CompletedPart uploadPart(String key, String uploadId, int number, byte[] bytes) {
        String etag = s3.uploadPart(b -> b.bucket(bucket).key(key).uploadId(uploadId).partNumber(number),
                RequestBody.fromBytes(bytes)).eTag();
        return CompletedPart.builder().partNumber(number).eTag(etag).build();
    }

    /** Parts already uploaded cost storage until aborted; a failed abort leaves them to a lifecycle rule. */
    private void abort(String key, String uploadId) {
        try {
            s3.abortMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId));
        } catch (SdkException e) {
            // the put already fails with its own error
        }
    }

    @Override
    public Optional<InputStream> open(String key) throws IOException {
        checkKey(key);
        ResponseInputStream<GetObjectResponse> stored;
        try {
            stored = s3.getObject(b -> b.bucket(bucket).key(key));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (SdkException e) {
            throw failure("read", key, e);
        }
        return Optional.of(ObjectFormat.payload(key, stored));
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        try {
            return s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix)).contents().stream()
                    .map(S3Object::key).toList();
        } catch (SdkException e) {
            throw failure("list", prefix, e);
        }
    }

    @Override
    public void delete(String key) throws IOException {
        checkKey(key);
        try {
            // S3 answers a delete of a missing key with success too
            s3.deleteObject(b -> b.bucket(bucket).key(key));
        } catch (SdkException e) {
            throw failure("delete", key, e);
        }
    }

    /**
     * Writes and deletes a probe object under {@code prefix}: the only way to learn that the
     * credentials may write there. The probe never holds data, so deleting it does not break
     * create-only; IOException with the reason when either step fails.
     */
    public void checkWritable(String prefix) throws IOException {
        String key = prefix + PROBE;
        try {
            s3.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromBytes(new byte[0]));
            s3.deleteObject(b -> b.bucket(bucket).key(key));
        } catch (SdkException e) {
            throw failure("write", key, e);
        }
    }

    @Override
    public boolean exists(String key) throws IOException {
        checkKey(key);
        try {
            s3.headObject(b -> b.bucket(bucket).key(key));
            return true;
        } catch (NoSuchKeyException e) {
            return false;
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return false;
            }
            throw failure("look up", key, e);
        } catch (SdkException e) {
            throw failure("look up", key, e);
        }
    }

    /** 412: the key exists (If-None-Match); 409: another conditional write of it is in flight. */
    private static boolean lostTheRace(S3Exception e) {
        return e.statusCode() == HTTP_PRECONDITION_FAILED || e.statusCode() == HTTP_CONFLICT;
    }

    private static byte[] withHeader(MessageDigest digest, byte[] payload) {
        byte[] header = ObjectFormat.header(Checksums.hex(digest.digest()));
        byte[] out = new byte[header.length + payload.length];
        System.arraycopy(header, 0, out, 0, header.length);
        System.arraycopy(payload, 0, out, header.length, payload.length);
        return out;
    }

    private static void checkKey(String key) {
        if (key.isEmpty() || key.startsWith("/")) {
            throw new IllegalArgumentException("not a repository key: " + key);
        }
    }

    private IOException failure(String what, String key, SdkException e) {
        return new IOException("could not " + what + " " + key + " in S3 bucket " + bucket + ": " + e.getMessage(), e);
    }
}
