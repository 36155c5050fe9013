"""Names of the outputs each stack exports; exporters, consumers and tests all use these."""

# foundation
TABLE_NAME = "tableName"
TABLE_ARN = "tableArn"
DEAD_LETTER_QUEUE_NAME = "deadLetterQueueName"
DEAD_LETTER_QUEUE_URL = "deadLetterQueueUrl"
DEAD_LETTER_QUEUE_ARN = "deadLetterQueueArn"
FUNCTION_ROLE_ARN = "functionRoleArn"
API_CONFIG_PARAMETER_NAME = "apiConfigParameterName"
DATABASE_CONNECTION_PARAMETER_NAME = "databaseConnectionParameterName"
FEATURE_FLAGS_PARAMETER_NAME = "featureFlagsParameterName"
PAGE_TOKEN_KEY_PARAMETER_NAME = "pageTokenKeyParameterName"
API_GATEWAY_CLOUDWATCH_ROLE_ARN = "apiGatewayCloudWatchRoleArn"

# compute
FUNCTION_NAME = "functionName"
FUNCTION_ARN = "functionArn"
FUNCTION_INVOKE_ARN = "functionInvokeArn"
FUNCTION_LOG_GROUP_NAME = "functionLogGroupName"

# edge
REST_API_ID = "restApiId"
REST_API_NAME = "restApiName"
STAGE_NAME = "stageName"
INVOKE_URL = "invokeUrl"
EXECUTION_ARN = "executionArn"
CLIENT_POLICY_ARN = "clientPolicyArn"
ACCESS_LOG_GROUP_NAME = "accessLogGroupName"

# observability
ALARM_TOPIC_ARN = "alarmTopicArn"
DASHBOARD_NAME = "dashboardName"
ALARM_NAMES = "alarmNames"

# Outputs each layer must export, so a consumer can check an upstream stack before it deploys.
BY_LAYER = {
    "foundation": (
        TABLE_NAME,
        TABLE_ARN,
        DEAD_LETTER_QUEUE_NAME,
        DEAD_LETTER_QUEUE_URL,
        DEAD_LETTER_QUEUE_ARN,
        FUNCTION_ROLE_ARN,
        API_CONFIG_PARAMETER_NAME,
        DATABASE_CONNECTION_PARAMETER_NAME,
        FEATURE_FLAGS_PARAMETER_NAME,
        PAGE_TOKEN_KEY_PARAMETER_NAME,
        API_GATEWAY_CLOUDWATCH_ROLE_ARN,
    ),
    "compute": (FUNCTION_NAME, FUNCTION_ARN, FUNCTION_INVOKE_ARN, FUNCTION_LOG_GROUP_NAME),
    "edge": (
        REST_API_ID,
        REST_API_NAME,
        STAGE_NAME,
        INVOKE_URL,
        EXECUTION_ARN,
        CLIENT_POLICY_ARN,
        ACCESS_LOG_GROUP_NAME,
    ),
    "observability": (ALARM_TOPIC_ARN, DASHBOARD_NAME, ALARM_NAMES),
}

# Outputs each layer reads from the layers it depends on.
REQUIRED_UPSTREAM = {
    "foundation": {},
    "compute": {
        # The function finds its table through the database-connection parameter.
        "foundation": (
            DEAD_LETTER_QUEUE_URL,
            DEAD_LETTER_QUEUE_ARN,
            FUNCTION_ROLE_ARN,
            API_CONFIG_PARAMETER_NAME,
            DATABASE_CONNECTION_PARAMETER_NAME,
            FEATURE_FLAGS_PARAMETER_NAME,
            PAGE_TOKEN_KEY_PARAMETER_NAME,
        ),
    },
    "edge": {
        "foundation": (API_GATEWAY_CLOUDWATCH_ROLE_ARN,),
        "compute": (FUNCTION_NAME, FUNCTION_INVOKE_ARN),
    },
    "observability": {
        "foundation": (TABLE_NAME, DEAD_LETTER_QUEUE_NAME),
        "compute": (FUNCTION_NAME, FUNCTION_LOG_GROUP_NAME),
        "edge": (REST_API_NAME, STAGE_NAME, ACCESS_LOG_GROUP_NAME),
    },
}
