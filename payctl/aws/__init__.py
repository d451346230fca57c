"""The only package that talks to AWS (boto3/botocore). It never prints."""
