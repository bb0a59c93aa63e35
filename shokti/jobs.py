"""GET /internal/jobs/status: the periodic jobs that celery-beat runs."""

from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from shokti.auth import InternalTokenAuthentication, IsInternalCaller


def _describe_trigger(task: PeriodicTask) -> str:
    if task.crontab_id:
        cron = task.crontab
        return f"cron[{cron.minute} {cron.hour} {cron.day_of_month} {cron.month_of_year} {cron.day_of_week} {cron.timezone}]"
    if task.interval_id:
        return f"interval[every {task.interval.every} {task.interval.period}]"
    if task.clocked_id:
        return f"date[{task.clocked.clocked_time.isoformat()}]"
    if task.solar_id:
        return f"solar[{task.solar.event}]"
    return "unknown"


def _next_run_at(task: PeriodicTask):
    if not task.enabled:
        return None
    if task.clocked_id:
        return None if task.last_run_at else task.clocked.clocked_time
    now = timezone.now()
    remaining = task.schedule.remaining_estimate(task.last_run_at or now)
    return now + remaining


class JobStatusView(APIView):
    authentication_classes = [InternalTokenAuthentication]
    permission_classes = [IsInternalCaller]

    @extend_schema(
        summary="Scheduled jobs and their next runs",
        responses=inline_serializer(
            "JobStatusList",
            {
                "jobs": inline_serializer(
                    "JobStatus",
                    {
                        "name": serializers.CharField(),
                        "task": serializers.CharField(),
                        "trigger": serializers.CharField(),
                        "next_run_at": serializers.DateTimeField(allow_null=True),
                        "enabled": serializers.BooleanField(),
                        "last_run": serializers.DateTimeField(allow_null=True),
                    },
                    many=True,
                )
            },
        ),
    )
    def get(self, request):
        tasks = PeriodicTask.objects.select_related("crontab", "interval", "clocked", "solar").order_by("name")
        field = serializers.DateTimeField()
        jobs = [
            {
                "name": task.name,
                "task": task.task,
                "trigger": _describe_trigger(task),
                "next_run_at": field.to_representation(next_run) if (next_run := _next_run_at(task)) else None,
                "enabled": task.enabled,
                "last_run": field.to_representation(task.last_run_at) if task.last_run_at else None,
            }
            for task in tasks
        ]
        return Response({"jobs": jobs})
