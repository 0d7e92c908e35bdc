package io.baton.common.store;

/**
 * One line for the failures of a store that are the user's to fix, not Baton's: an S3 bucket that does not exist,
 * credentials missing or refused. S3A's exceptions are recognised by name (hadoop-aws is a run-time choice, not a
 * dependency of Baton's code).
 *
 * <p>Thread-safe (stateless).
 */
public final class StoreErrors
{
    private StoreErrors()
    {
    }

    private static final java.util.regex.Pattern BUCKET = java.util.regex.Pattern.compile("(s3a?://[^/'`\\s:]+)");

    /** The bucket a message names ({@code s3a://bucket}), else the message itself. */
    private static String where(final Throwable root)
    {
        for (Throwable t = root; t != null; t = t.getCause() == t ? null : t.getCause())
        {
            final java.util.regex.Matcher m = BUCKET.matcher(String.valueOf(t.getMessage()));
            if (m.find())
            {
                return m.group(1);
            }
        }
        return String.valueOf(root.getMessage()).replace('\n', ' ');
    }

    /** What is wrong and how to fix it, or null when {@code failure} is not one of these. */
    public static String explain(final Throwable failure)
    {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause())
        {
            final String name = t.getClass().getSimpleName();
            final String message = String.valueOf(t.getMessage());
            if (name.equals("UnknownStoreException") || message.contains("NoSuchBucket"))
            {
                return where(failure) + ": the bucket does not exist (or these credentials cannot see "
                    + "it); create it, or fix the bucket name in the URI (s3a://BUCKET/path)";
            }
            if (name.equals("NoAuthWithAWSException") || name.equals("NoAwsCredentialsException")
                || name.equals("CredentialInitializationException"))
            {
                return where(failure) + ": no credentials for the store; set fs.s3a.access.key and "
                    + "fs.s3a.secret.key (e.g. --conf spark.hadoop.fs.s3a.access.key=...), or AWS_ACCESS_KEY_ID and "
                    + "AWS_SECRET_ACCESS_KEY, or give the host an instance profile";
            }
            if (t instanceof java.nio.file.AccessDeniedException && (message.contains("403")
                || message.contains("InvalidAccessKeyId") || message.contains("SignatureDoesNotMatch")
                || message.contains("AccessDenied") || message.contains("Forbidden")))
            {
                return where(failure) + ": the store refused these credentials (" + (message.contains(
                    "SignatureDoesNotMatch") ? "wrong secret key" : message.contains("InvalidAccessKeyId")
                    ? "unknown access key" : "access denied") + "); check fs.s3a.access.key "
                    + "and fs.s3a.secret.key (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and that this identity may "
                    + "read and write the path";
            }
        }
        return null;
    }
}
