// The kernel's floor for "many light clients" (issue 15, target 2): sender CPU per send() of SIZE bytes over
// loopback TCP, round-robin over N connections, RATE sends/s paced in 1 ms ticks; a forked reader drains every socket.
// cc -O2 -o /tmp/sendfloor bench/sendfloor.c && /tmp/sendfloor 1000 280 20000 5
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
static double cpu(){struct rusage r;getrusage(RUSAGE_SELF,&r);return r.ru_utime.tv_sec+r.ru_utime.tv_usec/1e6+r.ru_stime.tv_sec+r.ru_stime.tv_usec/1e6;}
int main(int argc,char**argv){int n=atoi(argv[1]),size=atoi(argv[2]),rate=atoi(argv[3]),secs=atoi(argv[4]);
 int l=socket(AF_INET,SOCK_STREAM,0);struct sockaddr_in a={0};a.sin_family=AF_INET;a.sin_addr.s_addr=htonl(0x7f000001);
 bind(l,(void*)&a,sizeof a);listen(l,4096);socklen_t al=sizeof a;getsockname(l,(void*)&a,&al);
 int *c=malloc(n*sizeof(int)),*s=malloc(n*sizeof(int));
 for(int i=0;i<n;i++){c[i]=socket(AF_INET,SOCK_STREAM,0);connect(c[i],(void*)&a,sizeof a);s[i]=accept(l,0,0);int one=1;setsockopt(s[i],IPPROTO_TCP,TCP_NODELAY,&one,4);}
 pid_t p=fork();
 if(p==0){for(int i=0;i<n;i++)close(s[i]);int e=epoll_create1(0);for(int i=0;i<n;i++){struct epoll_event ev={.events=EPOLLIN,.data.fd=c[i]};epoll_ctl(e,EPOLL_CTL_ADD,c[i],&ev);}
  char buf[65536];struct epoll_event evs[256];for(;;){int k=epoll_wait(e,evs,256,2000);if(k<=0)break;for(int j=0;j<k;j++){if(read(evs[j].data.fd,buf,sizeof buf)<=0)_exit(0);}}_exit(0);}
 for(int i=0;i<n;i++)close(c[i]);
 char *msg=calloc(1,size);double t0=now(),c0=cpu();long sent=0;int per=rate/1000;int idx=0;
 for(int tick=0;tick<secs*1000;tick++){for(int j=0;j<per;j++){send(s[idx],msg,size,0);idx=(idx+1)%n;sent++;}
  double target=t0+(tick+1)/1000.0;double w;while((w=target-now())>0){struct timespec ts={0,(long)(w*1e9)};nanosleep(&ts,0);}}
 double c1=cpu(),t1=now();
 printf("n=%d size=%d rate=%d: %ld sends in %.1f s, sender CPU %.2f us/send (%.0f %% of a core)\n",n,size,rate,sent,t1-t0,(c1-c0)/sent*1e6,(c1-c0)/(t1-t0)*100);
 for(int i=0;i<n;i++)close(s[i]);waitpid(p,0,0);return 0;}
