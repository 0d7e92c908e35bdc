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

    /** What is wrong and how to fix it, or null when {@code failure} is not one of these. */
    public static String explain(final Throwable failure)
    {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause())
        {
            final String name = t.getClass().getSimpleName();
            final String message = String.valueOf(t.getMessage());
            if (name.equals("UnknownStoreException") || message.contains("NoSuchBucket"))
            {
                return message.replace('\n', ' ') + ": the bucket does not exist (or these credentials cannot see "
                    + "it); create it, or fix the bucket name in the URI (s3a://BUCKET/path)";
            }
            if (name.equals("NoAuthWithAWSException") || name.equals("NoAwsCredentialsException")
                || name.equals("CredentialInitializationException"))
            {
                return message.replace('\n', ' ') + ": no credentials for the store; set fs.s3a.access.key and "
                    + "fs.s3a.secret.key (e.g. --conf spark.hadoop.fs.s3a.access.key=...), or AWS_ACCESS_KEY_ID and "
                    + "AWS_SECRET_ACCESS_KEY, or give the host an instance profile";
            }
            if (t instanceof java.nio.file.AccessDeniedException && (message.contains("403")
                || message.contains("InvalidAccessKeyId") || message.contains("SignatureDoesNotMatch")
                || message.contains("AccessDenied") || message.contains("Forbidden")))
            {
                return message.replace('\n', ' ') + ": the store refused these credentials; check fs.s3a.access.key "
                    + "and fs.s3a.secret.key (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and that this identity may "
                    + "read and write the path";
            }
        }
        return null;
    }
}
